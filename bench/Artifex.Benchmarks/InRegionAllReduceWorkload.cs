namespace Artifex.Benchmarks;

/// <summary>
/// A float all-reduce (sum, in place) over all of a provider's devices on one axis <c>data</c>: a global array with
/// one shard of <c>bytes</c> per device, and an SPMD body that runs <see cref="OpsPerRegion"/> collectives on its shard.
/// </summary>
internal sealed class InRegionAllReduceWorkload : IDisposable
{
    public const int OpsPerRegion = 32;

    public InRegionAllReduceWorkload(DeviceProvider provider, int bytes)
    {
        int devices = provider.Devices.Count;
        int count = bytes / sizeof(float);
        Mesh = new Mesh(provider.Devices, ("data", devices));
        Shards = GlobalArray.DevicePut(new HostArray<float>(new float[count * devices], devices, count), new NamedSharding(Mesh, new PartitionSpec("data")));
        Body = context =>
        {
            using DeviceArray view = DeviceArray.View<float>(Shards.Shards[context.DeviceIndex].Buffer, count);
            AxisGroup group = context.GetAxisGroup("data");
            for (int i = 0; i < OpsPerRegion; i++)
            {
                context.AllReduce(view, view, ReduceOp.Sum, group);
            }
        };
    }

    public Mesh Mesh { get; }

    public GlobalArray<float> Shards { get; }

    public Action<SpmdContext> Body { get; }

    public void Dispose() => Shards.Dispose();
}
