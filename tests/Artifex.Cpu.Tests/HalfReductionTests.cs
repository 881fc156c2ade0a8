using System.Runtime.InteropServices;
using Artifex.Cpu.Kernels;
using CsCheck;

namespace Artifex.Cpu.Tests;

/// <summary>The vectorized Half sum and mean against the scalar rank-order kernel: the same bits, overflow and NaN included.</summary>
public sealed class HalfReductionTests
{
    /// <summary>
    /// Bit patterns where a conversion goes wrong first: ±0, subnormals (smallest, largest, between), the smallest
    /// normals, values near 65504 whose sums overflow to ∞, ±∞, signaling and quiet NaNs with payloads of either sign,
    /// and pairs whose sum is an exact tie for round-to-nearest-even (1 + 2⁻¹¹, 1 + 2⁻¹⁰ + 2⁻¹¹, 2048 + 1, 2049 + 1,
    /// subnormal + normal at the edge of the subnormal range).
    /// </summary>
    private static readonly ushort[] s_edges =
    [
        0x0000, 0x8000, 0x0001, 0x8001, 0x0002, 0x03FF, 0x83FF, 0x0200, 0x0201, 0x8155, 0x0400, 0x8400, 0x0401,
        0x7BFF, 0xFBFF, 0x7BFE, 0xFBFE, 0x7BF0, 0x7800, 0xF800, 0x5000, 0x4FFF,
        0x7C00, 0xFC00, 0x7C01, 0xFC01, 0x7D55, 0xFEAA, 0x7E00, 0xFE00, 0x7FFF, 0xFFFF, 0x7E01, 0x7C12,
        0x3C00, 0xBC00, 0x3C01, 0xBC01, 0x1000, 0x9000, 0x1400, 0x6800, 0x6801, 0x3C00, 0x3800, 0x0C00,
    ];

    private static readonly Gen<Half> s_value = Gen.Frequency(
        (3, Gen.Float[-70000f, 70000f].Select(static f => (Half)f)),
        (2, Gen.Int[0, s_edges.Length - 1].Select(static i => BitConverter.UInt16BitsToHalf(s_edges[i]))),
        (1, Gen.UShort.Select(BitConverter.UInt16BitsToHalf)),
        (1, Gen.Int[-1023, 1023].Select(static i => BitConverter.UInt16BitsToHalf((ushort)(i < 0 ? 0x8000 - i : i)))));

    private static readonly Gen<(int Devices, Half[][] Inputs, bool Mean)> s_cases =
        from devices in Gen.Int[1, 8]
        from length in Gen.Int[0, 1500]
        from values in s_value.Array[length].Array[devices]
        from mean in Gen.Bool
        select (devices, values, mean);

    [Fact]
    public void Reduce_HasTheBitsOfTheScalarHalfOperators() => s_cases.Sample(
        c => AssertScalarBits(c.Inputs, c.Mean, avx512: null),
        iter: 300,
        threads: 1);

    [Fact]
    public void ReduceWithoutAvx512_HasTheBitsOfTheScalarHalfOperators() => s_cases.Sample(
        c => AssertScalarBits(c.Inputs, c.Mean, avx512: false),
        iter: 100,
        threads: 1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reduce_EveryPairOfEdgeValues_HasTheScalarBits(bool mean)
    {
        // Every edge value with every other, in both orders, at every position of a 32-Half vector and in the tail.
        Half[] a = [.. s_edges.SelectMany(x => s_edges.Select(_ => BitConverter.UInt16BitsToHalf(x)))];
        Half[] b = [.. s_edges.SelectMany(_ => s_edges.Select(BitConverter.UInt16BitsToHalf))];
        AssertScalarBits([a, b], mean, avx512: null);
        AssertScalarBits([a, b, b], mean, avx512: null);
        AssertScalarBits([a, b, a, b], mean, avx512: null);
        AssertScalarBits([a, b, b, a, a], mean, avx512: null);
    }

    private static unsafe void AssertScalarBits(Half[][] inputs, bool mean, bool? avx512)
    {
        int devices = inputs.Length;
        int length = inputs[0].Length;
        var vectorized = new Half[devices][];
        var scalar = new Half[devices][];
        var handles = new List<GCHandle>();
        try
        {
            nint[] pinned = [.. inputs.Select(a => Pin(a, handles))];
            nint[] fast = [.. Enumerable.Range(0, devices).Select(k => Pin(vectorized[k] = new Half[length], handles))];
            nint[] slow = [.. Enumerable.Range(0, devices).Select(k => Pin(scalar[k] = new Half[length], handles))];
            if (avx512 is { } wide)
            {
                HalfReduction.Reduce(mean, pinned, 0, fast, 0, length, wide);
            }
            else
            {
                HalfReduction.Reduce(mean, pinned, 0, fast, 0, length);
            }

            CollectiveKernels.ReduceScalar<Half, AddOperator<Half>>(pinned, 0, slow, 0, 0, length, mean ? (Half)devices : Half.Zero);
        }
        finally
        {
            handles.ForEach(static h => h.Free());
        }

        for (int k = 0; k < devices; k++)
        {
            Assert.Equal(scalar[k].Select(BitConverter.HalfToUInt16Bits), vectorized[k].Select(BitConverter.HalfToUInt16Bits));
        }
    }

    private static nint Pin(Half[] array, List<GCHandle> handles)
    {
        GCHandle handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        handles.Add(handle);
        return handle.AddrOfPinnedObject();
    }
}
