using System.Text.Json;
using Artifex.Cpu;
using Artifex.Distributed;
using Artifex.Samples.FashionMnist;
using Spectre.Console;

namespace Artifex.Samples.Tests;

/// <summary>The sample's step with the overlapped gradient reducer: no allocation per step, Half compression, the timeline.</summary>
public sealed class OverlappedStepTests : IDisposable
{
    private const int Batch = 64;
    private static readonly Dataset s_data = SyntheticDataset.Create(seed: 7, trainCount: Batch * 8, testCount: 100);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "artifex-overlap-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(GradientCompression.None)]
    [InlineData(GradientCompression.Half)]
    public void DeviceStep_SteadyState_AllocatesNothing(GradientCompression compression)
    {
        using var provider = new CpuProvider(2);
        using (var trainer = new MlpTrainer(provider, 2, Batch, 1e-3f, 42, compression: compression))
        {
            int[] order = [.. Enumerable.Range(0, s_data.TrainCount)];
            var allocated = new List<long>();
            for (int s = 0; s < 8; s++)
            {
                trainer.Step(s_data, order.AsSpan(s * Batch, Batch));
                allocated.Add(trainer.DeviceStepAllocatedBytes);
            }

            // The first steps warm up (JIT, first use of the communication threads); after them, nothing. A per-step
            // allocation shows in every step; a garbage collection other threads cause can charge a device thread the
            // unused rest of its allocation buffer once, so most steps, not all, must read 0.
            long[] steady = [.. allocated.Skip(3)];
            Assert.True(steady.Count(static bytes => bytes == 0) >= steady.Length - 1, $"bytes per step: {string.Join(", ", allocated)}");
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void HalfCompression_StaysCloseToSingle_AndReplicasAgree()
    {
        float[][] single = Train(GradientCompression.None, out _);
        float[][] half = Train(GradientCompression.Half, out bool agree);
        Assert.True(agree);
        for (int leaf = 0; leaf < single.Length; leaf++)
        {
            double norm = Math.Sqrt(single[leaf].Sum(v => (double)v * v));
            double distance = Math.Sqrt(single[leaf].Zip(half[leaf], (a, b) => ((double)a - b) * ((double)a - b)).Sum());

            // Half rounds each gradient to 11 bits; Adam normalizes, so 8 steps move the parameters apart by far less than a step.
            Assert.True(distance <= 2e-3 * norm, $"leaf {leaf}: ‖Δ‖ / ‖p‖ = {distance / norm:E3}");
            Assert.NotEqual(single[leaf], half[leaf]);
        }
    }

    [Fact]
    public void Trace_EveryDeviceHasItsPhasesAndBuckets_BucketZeroStartsDuringTheBackwardPass()
    {
        Directory.CreateDirectory(_folder);
        string trace = Path.Combine(_folder, "trace.json");
        var options = new TrainingOptions { Synthetic = true, Devices = 2, Epochs = 1, BatchSize = 64, TrainLimit = 256, TestLimit = 64, OutputDirectory = _folder, TracePath = trace };
        Assert.Equal(0, TrainingApp.Run(options, Quiet()));

        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(trace));
        JsonElement[] spans = [.. document.RootElement.GetProperty("traceEvents").EnumerateArray().Where(e => Is(e, "ph", "X"))];
        foreach (int device in new[] { 0, 1 })
        {
            JsonElement[] own = [.. spans.Where(e => e.GetProperty("tid").GetInt32() == device * 2)];
            JsonElement[] buckets = [.. spans.Where(e => e.GetProperty("tid").GetInt32() == (device * 2) + 1)];
            int steps = 256 / 64;
            Assert.Equal(steps, own.Count(e => Is(e, "name", "forward")));
            Assert.Equal(steps, own.Count(e => Is(e, "name", "adam")));
            Assert.Equal(2 * steps, buckets.Length);

            // Layer 2's bucket starts as soon as its gradients exist, inside the backward span: it overlaps layer 1's products.
            JsonElement[] backward = [.. own.Where(e => Is(e, "name", "backward"))];
            JsonElement[] first = [.. buckets.Where(e => Is(e, "name", "all-reduce bucket 0"))];
            for (int s = 0; s < steps; s++)
            {
                double start = backward[s].GetProperty("ts").GetDouble();
                double end = start + backward[s].GetProperty("dur").GetDouble();
                double launched = first[s].GetProperty("ts").GetDouble();
                Assert.InRange(launched, start, end);
            }
        }
    }

    [Theory]
    [InlineData("--compression", "fp8", "--compression must be none or half, not 'fp8'.")]
    [InlineData("--reproducible", "--compression=half", "--compression half and --reproducible exclude each other")]
    [InlineData("--zero=1", "--compression=half", "--zero 1 and --compression half exclude each other")]
    public void Invoke_BadCompression_OneLineExitTwo(string option, string value, string message)
    {
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        int code = TrainingCommand.Invoke(["--synthetic", "--output", Path.Combine(_folder, "never"), option, value], console);
        Assert.Equal(2, code);
        Assert.Contains(message, Assert.Single(writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static bool Is(JsonElement e, string property, string value) => string.Equals(e.GetProperty(property).GetString(), value, StringComparison.Ordinal);

    private static IAnsiConsole Quiet() => TrainingApp.Quiet();

    private static float[][] Train(GradientCompression compression, out bool agree)
    {
        using var provider = new CpuProvider(2);
        float[][] leaves;
        using (var trainer = new MlpTrainer(provider, 2, Batch, 1e-3f, 42, compression: compression))
        {
            int[] order = [.. Enumerable.Range(0, s_data.TrainCount)];
            for (int s = 0; s < 8; s++)
            {
                trainer.Step(s_data, order.AsSpan(s * Batch, Batch));
            }

            agree = trainer.ReplicasAgree();
            leaves = [.. trainer.ParametersToHost().Leaves().Select(h => h.As<float>().Span.ToArray())];
        }

        Assert.Equal(0, provider.LiveBufferCount);
        return leaves;
    }
}
