using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The shape of every in-region all-reduce benchmark: a provider the derived class creates, an
/// <see cref="InRegionAllReduceWorkload"/> of <see cref="WorkloadBytes"/> per device, and one region of
/// <see cref="OpsPerRegion"/> collectives per invocation (time is per collective).
/// </summary>
[MemoryDiagnoser]
public abstract class InRegionAllReduceBenchmark
{
    public const int OpsPerRegion = InRegionAllReduceWorkload.OpsPerRegion;

    private DeviceProvider _provider = null!;

    internal InRegionAllReduceWorkload Workload { get; private set; } = null!;

    protected DeviceProvider ProviderInstance => _provider;

    protected abstract int WorkloadBytes { get; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = CreateProvider();
        Workload = new InRegionAllReduceWorkload(_provider, WorkloadBytes);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Workload.Dispose();
        _provider.Dispose();
    }

    [Benchmark(OperationsPerInvoke = OpsPerRegion)]
    public void InRegion() => _provider.RunSpmd(Workload.Mesh, Workload.Body);

    protected abstract DeviceProvider CreateProvider();
}
