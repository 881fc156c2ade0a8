using Artifex.Cpu.Kernels;

namespace Artifex.Cpu.Tests;

/// <summary>
/// The determinism promise: for a fixed device count, an all-reduce gives the same bits every run, on any number of
/// threads and chunkings (in a region, host-issued, scalar or SIMD), because each element is combined in rank order.
/// </summary>
public sealed class CpuCollectiveDeterminismTests
{
    [Theory]
    [InlineData(2, 100_003)]
    [InlineData(8, 70_001)]
    [InlineData(3, 9_000)]
    public void AllReduce_RepeatedInRegionAndHostIssued_IdenticalBitsToRankOrderReference(int n, int length)
    {
        using var provider = new CpuProvider(n);
        var mesh = new Mesh(provider.Devices, ("data", n));
        float[][] inputs = [.. Enumerable.Range(0, n).Select(r => MixedMagnitudes(length, 1000 + r))];
        int[] expected = Bits(RankOrderSum(inputs));
        var hostData = inputs.SelectMany(static v => v).ToArray();

        for (int run = 0; run < 20; run++)
        {
            var results = new float[n][];
            provider.RunSpmd(mesh, context =>
            {
                using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(inputs[context.DeviceIndex], length));
                Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
                results[context.DeviceIndex] = x.ToArray();
            });
            Assert.All(results, r => Assert.Equal(expected, Bits(r)));
        }

        using GlobalArray<float> shards = GlobalArray.DevicePut(new HostArray<float>(hostData, n, length), new NamedSharding(mesh, new PartitionSpec("data")));
        provider.AllReduceShards(shards, ReduceOp.Sum, "data");
        foreach (Device device in provider.Devices)
        {
            Assert.Equal(expected, Bits(shards.GetShardData(device)));
        }
    }

    [Fact]
    public void AllReduce_OrderMatters_ResultIsRankOrderNotAnotherOrder()
    {
        // 1e8 + 1 − 1e8 in float: rank order gives 0, another order gives 1; the test fails if ranks were reordered.
        using var provider = new CpuProvider(3);
        var mesh = new Mesh(provider.Devices, ("data", 3));
        float[] values = [1e8f, 1f, -1e8f];
        var results = new float[3];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([values[context.DeviceIndex]], 1));
            Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
            results[context.DeviceIndex] = x.ToArray()[0];
        });
        Assert.All(results, r => Assert.Equal((1e8f + 1f) + -1e8f, r));
        Assert.All(results, r => Assert.Equal(0f, r));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    public unsafe void Kernel_SimdAndScalar_IdenticalBits(int n)
    {
        foreach (int length in new[] { 0, 1, 15, 16, 17, 31, 33, 1023, 4097 })
        {
            float[][] inputs = [.. Enumerable.Range(0, n).Select(r => MixedMagnitudes(length, (length * 31) + r))];
            var simd = new float[length];
            var scalar = new float[length];
            var handles = inputs.Select(static a => System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
            try
            {
                nint[] pointers = [.. handles.Select(static h => h.AddrOfPinnedObject())];
                fixed (float* s = simd, c = scalar)
                {
                    foreach (float divisor in new[] { 0f, n })
                    {
                        CollectiveKernels.Reduce<float, AddOperator<float>>(pointers, 0, [(nint)s], 0, length, divisor);
                        CollectiveKernels.ReduceScalar<float, AddOperator<float>>(pointers, 0, [(nint)c], 0, 0, length, divisor);
                        Assert.Equal(Bits(scalar), Bits(simd));
                    }

                    CollectiveKernels.Reduce<float, MaxOperator<float>>(pointers, 0, [(nint)s], 0, length, 0f);
                    CollectiveKernels.ReduceScalar<float, MaxOperator<float>>(pointers, 0, [(nint)c], 0, 0, length, 0f);
                    Assert.Equal(Bits(scalar), Bits(simd));
                }
            }
            finally
            {
                foreach (var handle in handles)
                {
                    handle.Free();
                }
            }
        }
    }

    [Fact]
    public void AllReduceInPlace_InRegion_AllocatesNothingPerCall()
    {
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var allocated = new long[2];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(new float[100_000], 100_000));
            AxisGroup group = context.GetAxisGroup("data");
            for (int i = 0; i < 5; i++)
            {
                context.AllReduce(x, x, ReduceOp.Sum, group);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++)
            {
                context.AllReduce(x, x, ReduceOp.Sum, group);
                Collectives.AllReduceInPlace(x, ReduceOp.Mean, "data");
            }

            allocated[context.DeviceIndex] = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.Equal([0L, 0L], allocated);
    }

    [Fact]
    public void AllReduceShards_HostIssued_AllocatesNothingPerCall()
    {
        using var provider = new CpuProvider(8);
        var mesh = new Mesh(provider.Devices, ("data", 8));
        using GlobalArray<float> shards = GlobalArray.DevicePut(new HostArray<float>(new float[8 * 1024], 8, 1024), new NamedSharding(mesh, new PartitionSpec("data")));
        for (int i = 0; i < 5; i++)
        {
            provider.AllReduceShards(shards, ReduceOp.Sum, "data");
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++)
        {
            provider.AllReduceShards(shards, ReduceOp.Sum, "data");
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    internal static float[] MixedMagnitudes(int length, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(i => (float)((random.NextDouble() - 0.5) * (i % 2 == 0 ? 2e6 : 2e-3)))];
    }

    internal static float[] RankOrderSum(float[][] inputs)
    {
        var sum = (float[])inputs[0].Clone();
        for (int k = 1; k < inputs.Length; k++)
        {
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] += inputs[k][i];
            }
        }

        return sum;
    }

    internal static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
