using Artifex.Cpu.Kernels;
using Artifex.Runtime;

namespace Artifex.Cpu.Runtime;

/// <summary>The CPU provider's part of the SPMD runtime: its fused collective executor and the element types it reduces.</summary>
internal sealed class CpuSpmdBackend(DeviceProvider provider) : SpmdBackend(provider)
{
    public override bool ExecutesReproducibleSums => true;

    public override bool PinsThreads => true;

    public override CollectiveExecutor CreateExecutor(Rendezvous rendezvous) => new CpuCollectiveExecutor(rendezvous);

    public override string? GetUnsupportedReason(Type elementType) => CollectiveDispatch.GetUnsupportedReason(elementType);
}
