namespace Artifex.Cpu.Tests;

/// <summary>Tests that change or count process-wide state (environment variables, DeviceProvider.Default, threads) run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessState
{
    public const string Name = "Process state";
}
