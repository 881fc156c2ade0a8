using System.Runtime.InteropServices;
using Artifex.Cpu.Kernels;
using CsCheck;

namespace Artifex.Cpu.Tests;

/// <summary>The vectorized Half sum and mean against the scalar rank-order kernel: the same bits, overflow and NaN included.</summary>
public sealed class HalfReductionTests
{
    private static readonly Gen<(int Devices, Half[][] Inputs, bool Mean)> s_cases =
        from devices in Gen.Int[1, 8]
        from length in Gen.Int[0, 1500]
        from values in Gen.Float[-70000f, 70000f].Select(static f => (Half)f).Array[length].Array[devices]
        from mean in Gen.Bool
        select (devices, values, mean);

    [Fact]
    public unsafe void Reduce_HasTheBitsOfTheScalarHalfOperators() => s_cases.Sample(
        c =>
        {
            int length = c.Inputs[0].Length;
            var vectorized = new Half[c.Devices][];
            var scalar = new Half[c.Devices][];
            var handles = new List<GCHandle>();
            try
            {
                nint[] inputs = [.. c.Inputs.Select(a => Pin(a, handles))];
                nint[] fast = [.. Enumerable.Range(0, c.Devices).Select(k => Pin(vectorized[k] = new Half[length], handles))];
                nint[] slow = [.. Enumerable.Range(0, c.Devices).Select(k => Pin(scalar[k] = new Half[length], handles))];
                HalfReduction.Reduce(c.Mean, inputs, 0, fast, 0, length);
                CollectiveKernels.ReduceScalar<Half, AddOperator<Half>>(inputs, 0, slow, 0, 0, length, c.Mean ? (Half)c.Devices : Half.Zero);
            }
            finally
            {
                handles.ForEach(static h => h.Free());
            }

            for (int k = 0; k < c.Devices; k++)
            {
                Assert.Equal(scalar[k].Select(BitConverter.HalfToInt16Bits), vectorized[k].Select(BitConverter.HalfToInt16Bits));
            }
        },
        iter: 200,
        threads: 1);

    private static nint Pin(Half[] array, List<GCHandle> handles)
    {
        GCHandle handle = GCHandle.Alloc(array, GCHandleType.Pinned);
        handles.Add(handle);
        return handle.AddrOfPinnedObject();
    }
}
