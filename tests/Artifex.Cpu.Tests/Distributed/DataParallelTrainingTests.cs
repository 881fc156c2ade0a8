using Artifex.Distributed;

namespace Artifex.Cpu.Tests.Distributed;

/// <summary>
/// The seed's "Complete Training Example" shape: a linear model trained data-parallel (shard the batch, replicate the
/// state, per-device gradients in a region, AllReduceGradients mean, the same SGD update everywhere) must match the
/// same steps on one device with the whole batch, and two runs must agree to the bit.
/// </summary>
public sealed class DataParallelTrainingTests
{
    private const int Rows = 32;
    private const int Features = 3;
    private const int Steps = 8;
    private const float LearningRate = 0.05f;

    [Fact]
    public void LinearModel_FourDevices_MatchesOneDeviceAndIsBitwiseRepeatable()
    {
        float[] onFour = Train(4);
        float[] onOne = Train(1);
        float[] again = Train(4);
        Assert.Equal(onFour.Select(BitConverter.SingleToInt32Bits), again.Select(BitConverter.SingleToInt32Bits));
        for (int i = 0; i < onOne.Length; i++)
        {
            Assert.True(Math.Abs(onFour[i] - onOne[i]) <= 1e-6 * Math.Max(1, Math.Abs(onOne[i])), $"parameter {i}: {onFour[i]} vs {onOne[i]}");
        }

        Assert.NotEqual(0f, onOne[0]);
    }

    private static float[] Train(int devices)
    {
        using var provider = new CpuProvider(devices);
        var dp = new DataParallel();
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh(axisName: "batch");
        (float[] x, float[] y) = Data();
        Tree<GlobalArray> batch = dp.ShardBatch(
            Tree.Dict(("x", HostArray.From(x, Rows, Features)), ("y", HostArray.From(y, Rows))),
            dp.CreateDataParallelSharding(mesh, "batch"));
        Tree<GlobalArray> state = dp.ReplicateParams(Tree.Dict(("b", HostArray.Scalar(0f)), ("w", HostArray.From(new float[Features], Features))), mesh);
        try
        {
            for (int step = 0; step < Steps; step++)
            {
                Tree<GlobalArray> inputs = Tree.Dict(("batch", batch), ("state", state));
                Tree<GlobalArray> next = Spmd.ShardMap(
                    mesh,
                    inputs,
                    (path, _) => string.Equals(path.Segments[0], "batch", StringComparison.Ordinal) ? new PartitionSpec("batch") : PartitionSpec.Replicated,
                    (_, _) => PartitionSpec.Replicated,
                    (_, local) => Step(dp, local));
                state.DisposeLeaves();
                state = next;
            }

            return [state["b"].Value.As<float>().ToArray()[0], .. state["w"].Value.As<float>().ToArray()];
        }
        finally
        {
            state.DisposeLeaves();
            batch.DisposeLeaves();
        }
    }

    /// <summary>Mean-squared-error gradient of the local block on the host, all-reduced, then one SGD step.</summary>
    private static Tree<DeviceArray> Step(DataParallel dp, Tree<DeviceArray> local)
    {
        float[] x = local["batch"]["x"].Value.As<float>().ToArray();
        float[] y = local["batch"]["y"].Value.As<float>().ToArray();
        float b = local["state"]["b"].Value.As<float>().ToArray()[0];
        float[] w = local["state"]["w"].Value.As<float>().ToArray();
        int rows = y.Length;
        var gw = new float[Features];
        float gb = 0;
        for (int r = 0; r < rows; r++)
        {
            float error = b - y[r];
            for (int f = 0; f < Features; f++)
            {
                error += x[(r * Features) + f] * w[f];
            }

            gb += 2 * error / rows;
            for (int f = 0; f < Features; f++)
            {
                gw[f] += 2 * error * x[(r * Features) + f] / rows;
            }
        }

        Device device = local["state"]["w"].Value.Device;
        Tree<DeviceArray> grads = Tree.Dict<DeviceArray>(
            ("b", DeviceArray.FromHost(device, (HostArray<float>)HostArray.Scalar(gb))),
            ("w", DeviceArray.FromHost(device, new HostArray<float>(gw, Features))));
        Tree<DeviceArray> mean = dp.AllReduceGradients(grads, ReduceOp.Mean, "batch");
        grads.DisposeLeaves();
        float meanB = mean["b"].Value.As<float>().ToArray()[0];
        float[] meanW = mean["w"].Value.As<float>().ToArray();
        mean.DisposeLeaves();
        return Tree.Dict<DeviceArray>(
            ("b", DeviceArray.FromHost(device, (HostArray<float>)HostArray.Scalar(b - (LearningRate * meanB)))),
            ("w", DeviceArray.FromHost(device, new HostArray<float>([.. w.Select((v, f) => v - (LearningRate * meanW[f]))], Features))));
    }

    private static (float[] X, float[] Y) Data()
    {
        var random = new Random(7);
        float[] trueW = [1.5f, -2f, 0.25f];
        float[] x = [.. Enumerable.Range(0, Rows * Features).Select(_ => (float)(random.NextDouble() - 0.5))];
        float[] y = [.. Enumerable.Range(0, Rows).Select(r => 0.3f + Enumerable.Range(0, Features).Sum(f => x[(r * Features) + f] * trueW[f]))];
        return (x, y);
    }
}
