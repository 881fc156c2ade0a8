namespace Artifex.Cpu.Tests.Reproducible;

/// <summary>Runs reproducible collectives and states on CPU devices for the reproducible-sum tests.</summary>
internal static class ReproHarness
{
    /// <summary>
    /// One reproducible (or rank-ordered) all-reduce over the "data" axis of <paramref name="provider"/>'s devices: rank r
    /// holds <paramref name="perRank"/>[r]. Returns every rank's output.
    /// </summary>
    /// <param name="provider">The provider; its device count is the participant count.</param>
    /// <param name="perRank">One array per rank.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="determinism">The determinism.</param>
    /// <param name="inPlace">True for <see cref="Collectives.AllReduceInPlace(DeviceArray, ReduceOp, string, Determinism)"/>; false for the context's out-of-place form.</param>
    /// <returns>The outputs, by rank.</returns>
    public static float[][] AllReduce(CpuProvider provider, float[][] perRank, ReduceOp op, Determinism determinism, bool inPlace = true)
    {
        int n = provider.Devices.Count;
        var mesh = new Mesh(provider.Devices, ("data", n));
        var results = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(perRank[r], perRank[r].Length));
            if (inPlace)
            {
                Collectives.AllReduceInPlace(x, op, "data", determinism);
                results[r] = x.ToArray();
            }
            else
            {
                using DeviceArray<float> y = DeviceArray.Allocate<float>(context.Device, perRank[r].Length);
                context.AllReduce(x, y, op, context.GetAxisGroup("data"), determinism);
                results[r] = y.ToArray();
            }
        });
        return results;
    }

    /// <summary>
    /// The state path: device d deposits contributions <paramref name="assignment"/>[d] (in that order) into a
    /// <see cref="ReproducibleSumState"/>, all-reduces the states over "data", and finalizes with <paramref name="scale"/>.
    /// </summary>
    /// <param name="provider">The provider.</param>
    /// <param name="contributions">The contributions.</param>
    /// <param name="assignment">The contribution indices of each device.</param>
    /// <param name="scale">The finalize scale.</param>
    /// <returns>Every device's output.</returns>
    public static float[][] States(CpuProvider provider, float[][] contributions, int[][] assignment, double scale = 1.0)
    {
        int n = provider.Devices.Count;
        int length = contributions[0].Length;
        var mesh = new Mesh(provider.Devices, ("data", n));
        var results = new float[n][];
        var counts = new long[n];
        provider.RunSpmd(mesh, context =>
        {
            int d = context.DeviceIndex;
            using ReproducibleSumState state = ReproducibleSumState.Create(context.Device, length);
            foreach (int c in assignment[d])
            {
                using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(contributions[c], length));
                state.Deposit(x.Buffer);
            }

            state.AllReduce("data");
            counts[d] = state.DepositCount;
            using DeviceArray<float> output = DeviceArray.Allocate<float>(context.Device, length);
            state.Finalize(output.Buffer, scale);
            results[d] = output.ToArray();
        });
        int total = assignment.Sum(static a => a.Length);
        Assert.All(counts, c => Assert.Equal(total, c));
        return results;
    }

    /// <summary>Splits a permutation of the contributions over <paramref name="devices"/> devices, in equal consecutive runs.</summary>
    /// <param name="permutation">The contribution order.</param>
    /// <param name="devices">The device count; divides the permutation's length.</param>
    /// <returns>The assignment.</returns>
    public static int[][] Split(int[] permutation, int devices)
    {
        int per = permutation.Length / devices;
        return [.. Enumerable.Range(0, devices).Select(d => permutation.AsSpan(d * per, per).ToArray())];
    }

    /// <summary>The bit patterns of floats, for exact comparisons that tell −0 from +0 and NaN payloads apart.</summary>
    /// <param name="values">The floats.</param>
    /// <returns>The bits.</returns>
    public static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    /// <summary>The bit patterns of doubles.</summary>
    /// <param name="values">The doubles.</param>
    /// <returns>The bits.</returns>
    public static long[] Bits(double[] values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];

    /// <summary>Reads a state's raw buffer (3·Length doubles, biased).</summary>
    /// <param name="state">The state.</param>
    /// <returns>The doubles.</returns>
    public static double[] Raw(ReproducibleSumState state)
    {
        var raw = new double[3 * state.Length];
        state.Device.Provider!.CopyToHost<double>(state.Buffer, 0, raw);
        return raw;
    }
}
