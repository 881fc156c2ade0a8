namespace Artifex.Cpu.Runtime;

/// <summary>A condition a thread waits for; a struct so that waiting allocates nothing.</summary>
internal interface IWaitCondition
{
    bool IsSatisfied();
}
