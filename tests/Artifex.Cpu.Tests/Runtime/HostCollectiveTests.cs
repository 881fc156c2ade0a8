namespace Artifex.Cpu.Tests.Runtime;

/// <summary>
/// Host-issued collectives run on the provider's one pool of device threads (no second pool of helpers), and claim the
/// mesh's devices as a region does.
/// </summary>
/// <remarks>Alone in its collection: the thread count is process-wide, and tests beside it start providers' threads.</remarks>
[Collection(ProcessState.Name)]
public sealed class HostCollectiveTests
{
    [Fact]
    public void AllReduceShards_Large_RunsOnTheDeviceThreads_NoOtherThreadsStarted()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Thread names are read from /proc.");
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        const int Length = 1 << 20;
        float[] values = [.. Enumerable.Range(0, 2 * Length).Select(static i => (float)(i % 5))];
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(values, 2, Length), new NamedSharding(mesh, new PartitionSpec("data")));
        provider.RunSpmd(mesh, static _ => { });
        int before = ProviderThreads();

        provider.AllReduceShards(array, ReduceOp.Sum, "data");

        Assert.Equal(before, ProviderThreads());
        float[] summed = array.ToArray();
        Assert.Equal(values[0] + values[Length], summed[0]);
        Assert.Equal(values[Length - 1] + values[(2 * Length) - 1], summed[(2 * Length) - 1]);
    }

    [Fact]
    public void AllReduceShards_WhileARegionRunsOnTheDevices_IsRefusedAndChangesNothing()
    {
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>([1f, 2f], 2), new NamedSharding(mesh, new PartitionSpec("data")));
        Exception? refused = null;
        provider.RunSpmd(mesh, context =>
        {
            if (context.DeviceIndex == 0)
            {
                refused = Record.Exception(() => provider.AllReduceShards(array, ReduceOp.Sum, "data"));
            }
        });

        var error = Assert.IsType<InvalidOperationException>(refused);
        Assert.Contains("is already running an SPMD region", error.Message, StringComparison.Ordinal);
        Assert.Equal([1f, 2f], array.ToArray());
        provider.AllReduceShards(array, ReduceOp.Sum, "data");
        Assert.Equal([3f, 3f], array.ToArray());
    }

    /// <summary>Threads whose OS name starts with "Artifex" (the runtime names its threads; Linux keeps 15 characters).</summary>
    private static int ProviderThreads() =>
        Directory.GetDirectories("/proc/self/task").Count(static task =>
            File.Exists(Path.Combine(task, "comm")) && File.ReadAllText(Path.Combine(task, "comm")).StartsWith("Artifex", StringComparison.Ordinal));
}
