namespace Artifex.Cpu.Tests;

/// <summary>Tests that change process-wide state (environment variables, DeviceProvider.Default) run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessState
{
    public const string Name = "Process state";
}
