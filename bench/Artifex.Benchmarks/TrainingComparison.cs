using System.Diagnostics;
using System.Globalization;
using Artifex.Cpu;
using Artifex.Samples.FashionMnist;

namespace Artifex.Benchmarks;

/// <summary>
/// <c>-- train</c>: the sample's training step (N = 1 and 2 devices, batch 256) beside the TorchSharp-cpu peer (T = 1 and 2
/// threads), interleaved in one run, three rounds, medians. Our step includes building and placing the batch (gather,
/// <c>ShardBatch</c>); the peer's uses contiguous views of tensors already in memory.
/// </summary>
internal static class TrainingComparison
{
    private const int Batch = 256;
    private const int Warmup = 700;
    private const int Steps = 300;

    public static int Run()
    {
        TextWriter log = Console.Out;
        Dataset data = FashionMnistFiles.Exist(FashionMnistFiles.DebianDirectory) ? FashionMnistFiles.Load(FashionMnistFiles.DebianDirectory) : SyntheticDataset.Create(42);
        log.WriteLine($"# data: {data.Source}; batch {Batch}; ours: {Warmup} warm-up then {Steps} timed steps; peer: its own warm-up (30) then {Steps}");
        string? peer = TorchSharpPeer.Build(log);
        var results = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        for (int round = 0; round < 3; round++)
        {
            foreach (int devices in new[] { 1, 2 })
            {
                Add(results, $"Artifex N={devices}", OursMedianMs(data, devices));
            }

            if (peer is null)
            {
                continue;
            }

            foreach (int threads in new[] { 1, 2 })
            {
                Add(results, $"TorchSharp T={threads}", TorchSharpPeer.MedianStepMs(peer, threads, Batch, Steps, tuned: false, log));
                Add(results, $"TorchSharp T={threads} tuned malloc", TorchSharpPeer.MedianStepMs(peer, threads, Batch, Steps, tuned: true, log));
            }
        }

        log.WriteLine("| configuration | median step ms (3 runs) | runs | samples/s |");
        log.WriteLine("|---|---|---|---|");
        foreach ((string name, List<double> runs) in results)
        {
            double median = runs.Order().ElementAt(runs.Count / 2);
            string all = string.Join(" / ", runs.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {median:F2} | {all} | {Batch / median * 1000:N0} |"));
        }

        return 0;
    }

    private static void Add(Dictionary<string, List<double>> results, string name, double value)
    {
        if (!results.TryGetValue(name, out List<double>? list))
        {
            results[name] = list = [];
        }

        list.Add(value);
    }

    private static double OursMedianMs(Dataset data, int devices)
    {
        using var provider = new CpuProvider(devices);
        using var trainer = new MlpTrainer(provider, devices, Batch, 1e-3f, 42);
        int[] order = [.. Enumerable.Range(0, data.TrainCount)];
        new SplitMix64(7).Shuffle(order);
        int batches = data.TrainCount / Batch;
        var times = new double[Steps];
        for (int i = 0; i < Warmup + Steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            trainer.Step(data, order.AsSpan(i % batches * Batch, Batch));
            if (i >= Warmup)
            {
                times[i - Warmup] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        Array.Sort(times);
        return times[Steps / 2];
    }
}
