using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Artifex.Conformance;
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
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public unsafe void Kernel_OneOutputPerInput_SpecializedPathsMatchScalarBits(int n)
    {
        // Equal input and output counts take the pointer-in-register paths for N = 2, 4 and 8.
        foreach (int length in new[] { 0, 15, 16, 17, 1023, 4097 })
        {
            float[][] inputs = [.. Enumerable.Range(0, n).Select(r => MixedMagnitudes(length, (length * 7) + r))];
            float[][] simd = [.. Enumerable.Range(0, n).Select(_ => new float[length])];
            float[][] scalar = [.. Enumerable.Range(0, n).Select(_ => new float[length])];
            var handles = inputs.Concat(simd).Concat(scalar)
                .Select(static a => System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned)).ToArray();
            try
            {
                nint[] all = [.. handles.Select(static h => h.AddrOfPinnedObject())];
                foreach (float divisor in new[] { 0f, n })
                {
                    CollectiveKernels.Reduce<float, AddOperator<float>>(all.AsSpan(0, n), 0, all.AsSpan(n, n), 0, length, divisor);
                    CollectiveKernels.ReduceScalar<float, AddOperator<float>>(all.AsSpan(0, n), 0, all.AsSpan(2 * n, n), 0, 0, length, divisor);
                    for (int k = 0; k < n; k++)
                    {
                        Assert.Equal(Bits(scalar[k]), Bits(simd[k]));
                        Assert.Equal(Bits(scalar[0]), Bits(simd[k]));
                    }
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
            // Warm up the exact calls measured below (first-call caches, tiering), then keep the best of three windows:
            // a per-call allocation shows in every window, a one-off runtime allocation in at most one.
            long best = long.MaxValue;
            for (int window = -1; window < 3; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 100; i++)
                {
                    context.AllReduce(x, x, ReduceOp.Sum, group);
                    Collectives.AllReduceInPlace(x, ReduceOp.Mean, "data");
                }

                if (window >= 0)
                {
                    best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
                }
            }

            allocated[context.DeviceIndex] = best;
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

    [Fact]
    public void Kernel_RandomOddLengthsEveryTypeAndOp_SimdBitEqualToScalarReference()
    {
        var random = new Random(20260);
        int[] fixedLengths = [1, 3, 7, 15, 17, 31, 33, 63, 65, 127, 129, 1023, 4097, 8193];
        int[] lengths = [.. fixedLengths, .. Enumerable.Range(0, 12).Select(_ => (2 * random.Next(0, 2500)) + 1)];
        foreach (int n in new[] { 1, 2, 3, 5, 8 })
        {
            foreach (int length in lengths)
            {
                CheckEveryOp(random, n, length, static r => (float)(((r.NextDouble() * 2) - 1) * (r.Next(2) == 0 ? 1e6 : 1e-3)), floating: true);
                CheckEveryOp(random, n, length, static r => ((r.NextDouble() * 2) - 1) * (r.Next(2) == 0 ? 1e12 : 1e-8), floating: true);
                CheckEveryOp(random, n, length, static r => r.Next(), floating: false);
                CheckEveryOp(random, n, length, static r => r.NextInt64(long.MinValue, long.MaxValue), floating: false);
            }
        }
    }

    [Fact]
    public void Kernel_NaNInfinitiesSignedZerosAndSubnormals_SimdBitEqualToScalarReference()
    {
        float[] floats = [float.NaN, -float.NaN, 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, 1f, -1f, float.MaxValue, float.MinValue];
        double[] doubles = [double.NaN, -double.NaN, 0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, -double.Epsilon, 1.0, -1.0, double.MaxValue, double.MinValue];
        var random = new Random(77);
        foreach (int n in new[] { 2, 3, 8 })
        {
            foreach (int length in new[] { 1, 17, 67, 1031 })
            {
                CheckEveryOp(random, n, length, r => floats[r.Next(floats.Length)], floating: true);
                CheckEveryOp(random, n, length, r => doubles[r.Next(doubles.Length)], floating: true);
            }
        }
    }

    [Fact]
    public void Kernel_AnyChunkingOfTheRange_BitEqualToOneCall()
    {
        var random = new Random(4242);
        const int n = 5;
        const int length = 20011;
        float[][] inputs = [.. Enumerable.Range(0, n).Select(_ => CollectiveReference.MixedFloats(random, length))];
        using var pinned = new PinnedArrays<float>(inputs);
        float[] whole = Reduce<float, AddOperator<float>>(pinned, 0, length, n);
        for (int attempt = 0; attempt < 20; attempt++)
        {
            float[] pieces = GC.AllocateArray<float>(length, pinned: true);
            nint output = Address(pieces);
            for (int start = 0; start < length;)
            {
                int count = Math.Min(length - start, random.Next(1, 3000));
                CollectiveKernels.Reduce<float, AddOperator<float>>(pinned.Pointers, start, [output], start, count, n);
                start += count;
            }

            CollectiveReference.AssertBitEqual<float>(whole, pieces, $"chunking attempt {attempt}");
        }
    }

    [Theory]
    [InlineData(8, 1)]
    [InlineData(4, 2)]
    [InlineData(2, 4)]
    public void AllReduce_MoreDevicesThanCoresAcrossChunkBoundaries_BitEqualToReference(int dataSize, int modelSize)
    {
        // On this 2-core machine 8 participants are oversubscribed: the claimed chunks run on whichever threads have a
        // core, yet every element must be combined in rank order, as on a machine with a core per device.
        int n = dataSize * modelSize;
        using var provider = new CpuProvider(n);
        Mesh mesh = modelSize == 1 ? new Mesh(provider.Devices, ("data", n)) : new Mesh(provider.Devices, ("data", dataSize), ("model", modelSize));
        string[][] axisSets = modelSize == 1 ? [["data"]] : [["data"], ["model", "data"]];
        var random = new Random(n + (31 * modelSize));
        foreach (int length in new[] { 8191, 8192, 8193, (3 * 8192) + 5, 100_003 })
        {
            float[][] inputs = [.. Enumerable.Range(0, n).Select(_ => CollectiveReference.MixedFloats(random, length))];
            foreach (string[] axes in axisSets)
            {
                foreach (ReduceOp op in new[] { ReduceOp.Sum, ReduceOp.Mean })
                {
                    for (int repeat = 0; repeat < 3; repeat++)
                    {
                        float[][] results = RunInRegion(provider, mesh, inputs, op, axes);
                        for (int k = 0; k < n; k++)
                        {
                            float[] expected = CollectiveReference.Reduce(inputs, CollectiveReference.GroupMembers(mesh, k, axes), op);
                            CollectiveReference.AssertBitEqual<float>(expected, results[k], $"{op} of {length} over ({string.Join(", ", axes)}) on device {k}, repeat {repeat}, {Environment.ProcessorCount} cores");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public void AllReduce_TwentyTimesInOneRegion_IdenticalBitsEveryTime(int n)
    {
        using var provider = new CpuProvider(n);
        var mesh = new Mesh(provider.Devices, ("data", n));
        const int length = 50_021;
        var random = new Random(99 + n);
        float[][] inputs = [.. Enumerable.Range(0, n).Select(_ => CollectiveReference.MixedFloats(random, length))];
        float[] expected = CollectiveReference.Reduce(inputs, [.. Enumerable.Range(0, n)], ReduceOp.Mean);
        var results = new float[n][][];
        provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            results[k] = new float[20][];
            using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, length);
            for (int run = 0; run < 20; run++)
            {
                x.CopyFrom(inputs[k]);
                Collectives.AllReduceInPlace(x, ReduceOp.Mean, "data");
                results[k][run] = x.ToArray();
            }
        });
        for (int k = 0; k < n; k++)
        {
            for (int run = 0; run < 20; run++)
            {
                CollectiveReference.AssertBitEqual<float>(expected, results[k][run], $"run {run} on device {k}");
            }
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(8, 1)]
    [InlineData(2, 4)]
    public void AllReduceShards_SingleControllerAndRegion_IdenticalBitsForEveryOp(int dataSize, int modelSize)
    {
        int n = dataSize * modelSize;
        using var provider = new CpuProvider(n);
        Mesh mesh = modelSize == 1 ? new Mesh(provider.Devices, ("data", n)) : new Mesh(provider.Devices, ("data", dataSize), ("model", modelSize));
        PartitionSpec spec = modelSize == 1 ? new PartitionSpec("data") : new PartitionSpec("data", "model");
        var random = new Random(1234 + n);
        foreach (int width in new[] { 1001, 70_001 })
        {
            foreach (ReduceOp op in new[] { ReduceOp.Sum, ReduceOp.Mean, ReduceOp.Max, ReduceOp.Min })
            {
                long columns = (long)width * modelSize;
                using GlobalArray<float> array = GlobalArray.DevicePut(
                    new HostArray<float>(CollectiveReference.MixedFloats(random, (int)(dataSize * columns)), dataSize, columns),
                    new NamedSharding(mesh, spec));
                float[][] shards = [.. array.Shards.Select(s => array.GetShardData(s.Device))];
                float[][] region = RunInRegion(provider, mesh, shards, op, ["data"]);
                provider.AllReduceShards(array, op, "data");
                for (int k = 0; k < n; k++)
                {
                    float[] expected = CollectiveReference.Reduce(shards, CollectiveReference.GroupMembers(mesh, k, ["data"]), op);
                    CollectiveReference.AssertBitEqual<float>(expected, region[k], $"{op} in a region, device {k}, width {width}");
                    CollectiveReference.AssertBitEqual<float>(expected, array.GetShardData(provider.Devices[k]), $"{op} host-issued, device {k}, width {width}");
                }
            }
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    private static float[][] RunInRegion(CpuProvider provider, Mesh mesh, float[][] inputs, ReduceOp op, string[] axes)
    {
        var results = new float[mesh.Size][];
        provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(inputs[k], inputs[k].Length));
            Collectives.AllReduceInPlace(x, op, axes);
            results[k] = x.ToArray();
        });
        return results;
    }

    private static void CheckEveryOp<T>(Random random, int n, int length, Func<Random, T> next, bool floating)
        where T : unmanaged, INumber<T>
    {
        int inOffset = random.Next(0, 8);
        int outOffset = random.Next(0, 8);
        T[][] inputs = [.. Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, inOffset + length).Select(_ => next(random)).ToArray())];
        CheckKernel<T, AddOperator<T>>(inputs, inOffset, outOffset, length, T.Zero, "sum");
        CheckKernel<T, MaxOperator<T>>(inputs, inOffset, outOffset, length, T.Zero, "max");
        CheckKernel<T, MinOperator<T>>(inputs, inOffset, outOffset, length, T.Zero, "min");
        if (floating)
        {
            CheckKernel<T, AddOperator<T>>(inputs, inOffset, outOffset, length, T.CreateChecked(n), "mean");
        }
    }

    /// <summary>
    /// SIMD <see cref="CollectiveKernels.Reduce{T, TOp}"/> against <see cref="CollectiveKernels.ReduceScalar{T, TOp}"/>:
    /// two outputs out of place at a misaligned offset, and in place; elements outside the range must not change.
    /// </summary>
    private static void CheckKernel<T, TOp>(T[][] inputs, int inOffset, int outOffset, int count, T divisor, string what)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        string context = $"{what} of {inputs.Length} x {typeof(T).Name}[{count}] (offsets {inOffset}, {outOffset})";
        using var pinned = new PinnedArrays<T>(inputs);
        T[] scalar = GC.AllocateArray<T>(outOffset + count, pinned: true);
        T[] simdA = GC.AllocateArray<T>(outOffset + count, pinned: true);
        T[] simdB = GC.AllocateArray<T>(outOffset + count, pinned: true);
        T sentinel = T.CreateTruncating(-7);
        scalar.AsSpan().Fill(sentinel);
        simdA.AsSpan().Fill(sentinel);
        simdB.AsSpan().Fill(sentinel);
        CollectiveKernels.ReduceScalar<T, TOp>(pinned.Pointers, inOffset, [Address(scalar)], outOffset, 0, count, divisor);
        CollectiveKernels.Reduce<T, TOp>(pinned.Pointers, inOffset, [Address(simdA), Address(simdB)], outOffset, count, divisor);
        CollectiveReference.AssertBitEqual<T>(scalar, simdA, context + ", first output");
        CollectiveReference.AssertBitEqual<T>(scalar, simdB, context + ", second output");

        T[][] copies = [.. inputs.Select(static a => (T[])a.Clone())];
        using var inPlace = new PinnedArrays<T>(copies);
        CollectiveKernels.Reduce<T, TOp>(inPlace.Pointers, inOffset, inPlace.Pointers, inOffset, count, divisor);
        for (int k = 0; k < copies.Length; k++)
        {
            CollectiveReference.AssertBitEqual<T>(scalar.AsSpan(outOffset), inPlace.Arrays[k].AsSpan(inOffset), $"{context}, in place, input {k}");
            CollectiveReference.AssertBitEqual<T>(inputs[k].AsSpan(0, inOffset), inPlace.Arrays[k].AsSpan(0, inOffset), $"{context}, in place, untouched prefix {k}");
        }
    }

    private static T[] Reduce<T, TOp>(PinnedArrays<T> inputs, int offset, int count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        T[] output = GC.AllocateArray<T>(count, pinned: true);
        CollectiveKernels.Reduce<T, TOp>(inputs.Pointers, offset, [Address(output)], 0, count, divisor);
        return output;
    }

    private static unsafe nint Address<T>(T[] pinnedArray)
        where T : unmanaged => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedArray));

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

    /// <summary>Copies of arrays on the pinned object heap, so the kernels can take their addresses.</summary>
    private sealed class PinnedArrays<T> : IDisposable
        where T : unmanaged
    {
        public PinnedArrays(T[][] arrays)
        {
            Arrays = [.. arrays.Select(static a =>
            {
                T[] copy = GC.AllocateArray<T>(a.Length, pinned: true);
                a.CopyTo(copy, 0);
                return copy;
            })];
            Pointers = [.. Arrays.Select(Address)];
        }

        public T[][] Arrays { get; private set; }

        public nint[] Pointers { get; private set; }

        public void Dispose()
        {
            // Pinned-heap arrays are freed by the GC; dropping the references is all there is to do.
            Arrays = [];
            Pointers = [];
        }
    }
}
