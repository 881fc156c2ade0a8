using System.Globalization;
using Artifex.Distributed;

namespace Artifex.Samples.Hosting;

/// <summary>A few data-parallel steps of a linear model, written only against services resolved from the container.</summary>
/// <remarks>
/// The same code runs on one process and, with the MPI provider under <c>mpirun</c>, on every process of the job: each
/// process places its own rows of the same global batch, runs its own devices' steps, and process 0 alone prints.
/// </remarks>
internal sealed class TrainingSteps(DeviceProvider provider, DeviceMeshManager meshes, DataParallel dataParallel)
{
    private const int Features = 4;
    private const float LearningRate = 0.1f;

    public int Run(int steps, TextWriter output)
    {
        Mesh mesh = meshes.CreateDataParallelMesh(axisName: "batch");
        TextWriter report = provider.ProcessIndex == 0 ? output : TextWriter.Null;
        string processes = provider.ProcessCount > 1 ? $" over {provider.ProcessCount} processes" : string.Empty;
        report.WriteLine($"{provider.GetType().Name}: {provider.Devices.Count} '{provider.Platform}' devices{processes}, mesh {mesh}");
        int rows = 16 * mesh.Size;
        var random = new Random(1);
        float[] x = [.. Enumerable.Range(0, rows * Features).Select(_ => (float)(random.NextDouble() - 0.5))];
        float[] y = [.. Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, Features).Sum(f => x[(r * Features) + f] * (f + 1)))];
        Tree<GlobalArray> batch = dataParallel.ShardBatch(
            Tree.Dict(("x", HostArray.From(x, rows, Features)), ("y", HostArray.From(y, rows))),
            dataParallel.CreateDataParallelSharding(mesh, "batch"));
        Tree<GlobalArray> weights = dataParallel.ReplicateParams(Tree.Dict(("w", HostArray.From(new float[Features], Features))), mesh);
        try
        {
            for (int step = 0; step < steps; step++)
            {
                // The batch is split over the axis, the weights replicated; both outputs (new weights, mean loss) are the
                // same on every device, so they come back replicated and any process can read them.
                Tree<GlobalArray> next = Spmd.ShardMap(
                    mesh,
                    Tree.Dict(("batch", batch), ("weights", weights)),
                    (path, _) => string.Equals(path.Segments[0], "batch", StringComparison.Ordinal) ? new PartitionSpec("batch") : PartitionSpec.Replicated,
                    (_, _) => PartitionSpec.Replicated,
                    Step);
                using GlobalArray loss = next["loss"].Value;
                weights.DisposeLeaves();
                weights = Tree.Dict(("w", next["w"].Value));
                report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step}: mean loss {loss.As<float>().ToArray()[0]:0.0000}"));
            }

            float[] w = weights["w"].Value.As<float>().ToArray();
            report.WriteLine($"weights after {steps} steps: [{string.Join(", ", w.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))}] (target [1, 2, 3, 4])");
            return 0;
        }
        finally
        {
            weights.DisposeLeaves();
            batch.DisposeLeaves();
        }
    }

    /// <summary>Local mean-squared-error gradient on the host, all-reduced with DataParallel, then one SGD step.</summary>
    private Tree<DeviceArray> Step(SpmdContext context, Tree<DeviceArray> local)
    {
        float[] x = local["batch"]["x"].Value.As<float>().ToArray();
        float[] y = local["batch"]["y"].Value.As<float>().ToArray();
        float[] w = local["weights"]["w"].Value.As<float>().ToArray();
        var gradient = new float[Features];
        float loss = 0;
        for (int r = 0; r < y.Length; r++)
        {
            float error = -y[r];
            for (int f = 0; f < Features; f++)
            {
                error += x[(r * Features) + f] * w[f];
            }

            loss += error * error / y.Length;
            for (int f = 0; f < Features; f++)
            {
                gradient[f] += 2 * error * x[(r * Features) + f] / y.Length;
            }
        }

        Tree<DeviceArray> grads = Tree.Dict<DeviceArray>(("w", DeviceArray.FromHost(context.Device, new HostArray<float>(gradient, Features))));
        Tree<DeviceArray> mean = dataParallel.AllReduceGradients(grads, ReduceOp.Mean, "batch");
        float[] g = mean["w"].Value.As<float>().ToArray();
        grads.DisposeLeaves();
        mean.DisposeLeaves();
        using DeviceArray<float> localLoss = DeviceArray.FromHost(context.Device, new HostArray<float>([loss], 1));
        return Tree.Dict<DeviceArray>(
            ("loss", Collectives.Pmean(localLoss, "batch")),
            ("w", DeviceArray.FromHost(context.Device, new HostArray<float>([.. w.Select((v, f) => v - (LearningRate * g[f]))], Features))));
    }
}
