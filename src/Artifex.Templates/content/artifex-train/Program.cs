using Artifex;
using Artifex.Cpu;
using Artifex.Distributed;

// Trains y = x·w + b on synthetic data, data-parallel over emulated devices (Artifex's CPU provider). Every batch is
// split by rows over the mesh's "data" axis; each device computes the mean-squared-error gradient of its rows; the
// devices average their gradients (an all-reduce); every device then holds the same gradient, and the host applies it.
// With equal rows per device the average of the devices' means is the whole batch's mean, so the trained weights do
// not depend on the device count.
const int Devices = 4;
const int Features = 8;
const int Rows = 4096;
const int BatchSize = 256;
const int Epochs = 10;
const float LearningRate = 0.1f;

var random = new Random(42);
float[] trueWeights = [.. Enumerable.Range(0, Features).Select(_ => (float)((random.NextDouble() * 2) - 1))];
const float TrueBias = 0.5f;
float[] x = [.. Enumerable.Range(0, Rows * Features).Select(_ => (float)((random.NextDouble() * 2) - 1))];
float[] y = [.. Enumerable.Range(0, Rows).Select(r => Predict(x.AsSpan(r * Features, Features), trueWeights, TrueBias))];

using var provider = new CpuProvider(Devices);
Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();   // Mesh('data': 4)
var dataParallel = new DataParallel();
NamedSharding sharding = dataParallel.CreateDataParallelSharding(mesh);  // rows split over "data"

var weights = new float[Features];
float bias = 0;
for (int epoch = 1; epoch <= Epochs; epoch++)
{
    for (int start = 0; start < Rows; start += BatchSize)
    {
        Tree<HostArray> batch = Tree.Dict(
            ("x", HostArray.From(x[(start * Features)..((start + BatchSize) * Features)], BatchSize, Features)),
            ("y", HostArray.From(y[start..(start + BatchSize)], BatchSize)));
        Tree<GlobalArray> placed = dataParallel.ShardBatch(batch, sharding);
        var gradient = new float[Features + 1];
        provider.RunSpmd(mesh, context =>
        {
            float[] xs = placed["x"].Value.GetLocalBlock(context.Device).As<float>().ToArray();
            float[] ys = placed["y"].Value.GetLocalBlock(context.Device).As<float>().ToArray();
            float[] local = LocalGradient(xs, ys, weights, bias);
            using DeviceArray<float> g = DeviceArray.FromHost(context.Device, new HostArray<float>(local, local.Length));
            Tree<DeviceArray> mean = dataParallel.AllReduceGradients(Tree.Dict(("g", (DeviceArray)g)), ReduceOp.Mean, "data");
            if (context.DeviceIndex == 0)
            {
                mean["g"].Value.As<float>().ToArray().CopyTo(gradient, 0);   // every device holds the same mean
            }

            mean.DisposeLeaves();
        });
        placed.DisposeLeaves();

        for (int j = 0; j < Features; j++)
        {
            weights[j] -= LearningRate * gradient[j];
        }

        bias -= LearningRate * gradient[Features];
    }

    double loss = MeanSquaredError(x, y, weights, bias);
    Console.WriteLine($"epoch {epoch,2}: mean squared error {loss:E3}");
}

float worst = Enumerable.Range(0, Features).Max(j => MathF.Abs(weights[j] - trueWeights[j]));
Console.WriteLine($"largest weight error {worst:E2}, bias {bias:F4} (true {TrueBias})");
return worst < 1e-3f && MathF.Abs(bias - TrueBias) < 1e-3f ? 0 : 1;

static float Predict(ReadOnlySpan<float> row, float[] weights, float bias)
{
    float sum = bias;
    for (int j = 0; j < row.Length; j++)
    {
        sum += row[j] * weights[j];
    }

    return sum;
}

// The gradient of this device's rows' mean squared error, with respect to the weights, then the bias.
static float[] LocalGradient(float[] xs, float[] ys, float[] weights, float bias)
{
    int rows = ys.Length;
    var gradient = new float[weights.Length + 1];
    for (int r = 0; r < rows; r++)
    {
        ReadOnlySpan<float> row = xs.AsSpan(r * weights.Length, weights.Length);
        float error = Predict(row, weights, bias) - ys[r];
        for (int j = 0; j < weights.Length; j++)
        {
            gradient[j] += 2 * error * row[j] / rows;
        }

        gradient[weights.Length] += 2 * error / rows;
    }

    return gradient;
}

static double MeanSquaredError(float[] x, float[] y, float[] weights, float bias)
{
    double sum = 0;
    for (int r = 0; r < y.Length; r++)
    {
        double error = Predict(x.AsSpan(r * weights.Length, weights.Length), weights, bias) - y[r];
        sum += error * error;
    }

    return sum / y.Length;
}
