using System.Globalization;
using Artifex.Distributed;

namespace Artifex.Samples.Hosting;

/// <summary>A few data-parallel steps of a linear model, written only against services resolved from the container.</summary>
internal sealed class TrainingSteps(DeviceProvider provider, DeviceMeshManager meshes, DataParallel dataParallel)
{
    private const int Features = 4;
    private const float LearningRate = 0.1f;

    public int Run(int steps)
    {
        Mesh mesh = meshes.CreateDataParallelMesh(axisName: "batch");
        Console.WriteLine($"provider '{provider.Platform}' with {provider.Devices.Count} devices, mesh {mesh}");
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
                var losses = new float[mesh.Size];
                Tree<GlobalArray> next = Spmd.ShardMap(
                    mesh,
                    Tree.Dict(("batch", batch), ("weights", weights)),
                    (path, _) => string.Equals(path.Segments[0], "batch", StringComparison.Ordinal) ? new PartitionSpec("batch") : PartitionSpec.Replicated,
                    (_, _) => PartitionSpec.Replicated,
                    (context, local) => Step(context, local, losses));
                weights.DisposeLeaves();
                weights = next;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step}: mean loss {losses.Average():0.0000}"));
            }

            float[] w = weights["w"].Value.As<float>().ToArray();
            Console.WriteLine($"weights after {steps} steps: [{string.Join(", ", w.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))}] (target [1, 2, 3, 4])");
            return 0;
        }
        finally
        {
            weights.DisposeLeaves();
            batch.DisposeLeaves();
        }
    }

    /// <summary>Local mean-squared-error gradient on the host, all-reduced with DataParallel, then one SGD step.</summary>
    private Tree<DeviceArray> Step(SpmdContext context, Tree<DeviceArray> local, float[] losses)
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

        losses[context.DeviceIndex] = loss;
        Tree<DeviceArray> grads = Tree.Dict<DeviceArray>(("w", DeviceArray.FromHost(context.Device, new HostArray<float>(gradient, Features))));
        Tree<DeviceArray> mean = dataParallel.AllReduceGradients(grads, ReduceOp.Mean, "batch");
        float[] g = mean["w"].Value.As<float>().ToArray();
        grads.DisposeLeaves();
        mean.DisposeLeaves();
        return Tree.Dict<DeviceArray>(("w", DeviceArray.FromHost(context.Device, new HostArray<float>([.. w.Select((v, f) => v - (LearningRate * g[f]))], Features))));
    }
}
