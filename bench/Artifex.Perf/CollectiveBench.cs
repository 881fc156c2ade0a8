using System.Diagnostics;
using Artifex.Benchmarks;
using Artifex.Cpu;

namespace Artifex.Perf;

/// <summary>
/// Measures one collective at one size on N emulated devices: checks every output element once against the exact
/// expected value, then times warm-up plus timed iterations, and measures the traffic bound over the same buffers.
/// </summary>
internal sealed unsafe class CollectiveBench(PerfSettings settings, DeviceProvider provider)
{
    /// <summary>Each size is timed as this many samples of <c>--iters</c> iterations; the median sample is reported (this VM has rare multi-millisecond stalls).</summary>
    private const int Samples = 5;

    private readonly Mesh _mesh = new(provider.Devices, ("data", provider.Devices.Count));

    private int N => provider.Devices.Count;

    public ResultRow Run(long bytes)
    {
        int elementSize = ElementSize(settings.ElementType);
        long total = bytes / elementSize;
        (long inCount, long outCount) = settings.Kind switch
        {
            CollectiveKind.AllGather => (total / N, total),
            CollectiveKind.ReduceScatter => (total, total / N),
            _ => (total, total),
        };
        // A reproducible Sum runs out of place: repeated in-place sums would leave its window (|x| ≤ 2^30) within a few
        // dozen iterations. Its Mean (and everything else) runs in place; compare like with like.
        bool inPlace = settings.Kind is CollectiveKind.Broadcast
            || (settings.Kind is CollectiveKind.AllReduce && !(settings.Determinism == Determinism.Reproducible && settings.Op == ReduceOp.Sum));
        DeviceArray[] inputs = [.. provider.Devices.Select(d => Allocate(d, inCount))];
        DeviceArray[] outputs = inPlace ? inputs : [.. provider.Devices.Select(d => Allocate(d, outCount))];
        try
        {
            Initialize(inputs);
            RunOnce(inputs, outputs, iterations: 1, warmup: 0, samples: 1);
            long wrong = CountWrong(outputs, inCount);
            WarmMemory(inputs, outputs);
            double micros = RunOnce(inputs, outputs, settings.Iterations, settings.Warmup);
            // The bound comes from a host memory probe; a GPU's memory is not host-addressable, so it has none here.
            double bound = provider is CpuProvider ? Bound(inPlace ? inputs : (settings.Kind == CollectiveKind.AllGather ? outputs : inputs), bytes) : double.NaN;
            double algbw = bytes / (micros * 1e-6) / 1e9;
            return new ResultRow(bytes, total, settings.ElementType, RedOpName, micros, algbw, algbw * BusFactor(), wrong, bound, null);
        }
        finally
        {
            foreach (DeviceArray array in inPlace ? inputs : [.. inputs, .. outputs])
            {
                array.Dispose();
            }
        }
    }

    /// <summary>
    /// Fresh memory on this kind of VM runs several times slower until the host has backed its pages; touch every buffer
    /// for a fixed time (copies within each device) before timing.
    /// </summary>
    private void WarmMemory(DeviceArray[] inputs, DeviceArray[] outputs)
    {
        long until = Stopwatch.GetTimestamp() + (long)(settings.WarmupSeconds * Stopwatch.Frequency);
        do
        {
            for (int r = 0; r < inputs.Length; r++)
            {
                provider.Copy(inputs[r].Buffer, 0, inputs[r].Buffer, 0, inputs[r].Length);
                provider.Copy(outputs[r].Buffer, 0, outputs[r].Buffer, 0, outputs[r].Length);
            }
        }
        while (Stopwatch.GetTimestamp() < until);
    }

    private static double Median(double[] samples)
    {
        Array.Sort(samples);
        return samples[samples.Length / 2];
    }

    public static int ElementSize(string type) => type switch
    {
        "double" => 8,
        _ => 4,
    };

    private string RedOpName => settings.Kind is CollectiveKind.AllReduce ? settings.Op.ToString().ToLowerInvariant() : settings.Kind is CollectiveKind.ReduceScatter ? "sum" : "none";

    private double BusFactor() => settings.Kind switch
    {
        CollectiveKind.AllReduce => 2.0 * (N - 1) / N,
        CollectiveKind.Broadcast => 1.0,
        _ => (N - 1.0) / N,
    };

    private DeviceArray Allocate(Device device, long count) => settings.ElementType switch
    {
        "double" => DeviceArray.Allocate<double>(device, count),
        "int" => DeviceArray.Allocate<int>(device, count),
        _ => DeviceArray.Allocate<float>(device, count),
    };

    /// <summary>Rank r's element i is (r + 1)·(i mod 17 + 1): small integers, so every sum is exact in every type.</summary>
    private static double Input(int rank, long i) => (rank + 1) * ((i % 17) + 1);

    private void Initialize(DeviceArray[] inputs)
    {
        for (int r = 0; r < inputs.Length; r++)
        {
            double[] values = [.. Enumerable.Range(0, (int)inputs[r].Length).Select(i => Input(r, i))];
            Write(inputs[r], values);
        }
    }

    private double Expected(int rank, long i, long inCount) => settings.Kind switch
    {
        CollectiveKind.AllReduce => settings.Op switch
        {
            ReduceOp.Sum => Enumerable.Range(0, N).Sum(k => Input(k, i)),
            ReduceOp.Mean => Enumerable.Range(0, N).Sum(k => Input(k, i)) / N,
            ReduceOp.Max => Input(N - 1, i),
            _ => Input(0, i),
        },
        CollectiveKind.AllGather => Input((int)(i / inCount), i % inCount),
        CollectiveKind.ReduceScatter => Enumerable.Range(0, N).Sum(k => Input(k, (rank * (inCount / N)) + i)),
        _ => Input(0, i),
    };

    private long CountWrong(DeviceArray[] outputs, long inCount)
    {
        long wrong = 0;
        for (int r = 0; r < outputs.Length; r++)
        {
            double[] actual = Read(outputs[r]);
            for (long i = 0; i < actual.Length; i++)
            {
                if (actual[i] != Expected(r, i, inCount))
                {
                    wrong++;
                }
            }
        }

        return wrong;
    }

    private double RunOnce(DeviceArray[] inputs, DeviceArray[] outputs, int iterations, int warmup, int samples = Samples)
    {
        if (settings.HostIssued)
        {
            // A view of the device arrays as one global array; the arrays keep ownership, so it is never disposed.
            GlobalArray shards = Wrap(inputs);
            for (int i = 0; i < warmup; i++)
            {
                provider.AllReduceShards(shards, settings.Op, "data");
            }

            var hostSamples = new double[samples];
            for (int s = 0; s < samples; s++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < iterations; i++)
                {
                    provider.AllReduceShards(shards, settings.Op, "data");
                }

                WaitForDevices();
                hostSamples[s] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / iterations;
            }

            return Median(hostSamples);
        }

        var times = new double[samples];
        provider.RunSpmd(_mesh, context =>
        {
            AxisGroup group = context.GetAxisGroup("data");
            DeviceArray input = inputs[context.DeviceIndex];
            DeviceArray output = outputs[context.DeviceIndex];
            for (int i = 0; i < warmup; i++)
            {
                Step(context, input, output, group);
            }

            for (int s = 0; s < samples; s++)
            {
                context.Barrier(group);
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < iterations; i++)
                {
                    Step(context, input, output, group);
                }

                if (context.DeviceIndex == 0)
                {
                    // GPU collectives are only queued by Step: the time counts once the last one has finished everywhere.
                    WaitForDevices();
                    times[s] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / iterations;
                }
            }
        });
        return Median(times);
    }

    private void WaitForDevices()
    {
        if (provider is Cuda.CudaProvider gpu)
        {
            gpu.Synchronize();
        }
    }

    private void Step(SpmdContext context, DeviceArray input, DeviceArray output, AxisGroup group)
    {
        switch (settings.Kind)
        {
            case CollectiveKind.AllReduce:
                context.AllReduce(input, output, settings.Op, group, settings.Determinism);
                break;
            case CollectiveKind.AllGather:
                context.AllGather(input, output, group);
                break;
            case CollectiveKind.ReduceScatter:
                context.ReduceScatter(input, output, group, settings.Determinism);
                break;
            default:
                context.Broadcast(input, output, 0, group);
                break;
        }
    }

    /// <summary>Bound time: the collective's minimum traffic at the bandwidth a read-modify-write pass reaches over the same buffers.</summary>
    private double Bound(DeviceArray[] large, long bytes)
    {
        using var probe = new TwoThreadProbe();
        long floats = large[0].Buffer.SizeInBytes / sizeof(float);
        var pointers = new float*[large.Length];
        for (int k = 0; k < large.Length; k++)
        {
            pointers[k] = (float*)((CpuBuffer)large[k].Buffer).Pointer;
        }

        probe.Prepare(pointers, floats);
        for (int i = 0; i < 3; i++)
        {
            probe.Pass();
        }

        int passes = Math.Max(settings.Iterations, 5);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < passes; i++)
        {
            probe.Pass();
        }

        double probeMicros = Stopwatch.GetElapsedTime(start).TotalMicroseconds / passes;
        double bandwidth = 2.0 * large.Length * large[0].Buffer.SizeInBytes / probeMicros;
        double traffic = settings.Kind == CollectiveKind.AllReduce ? 2.0 * N * bytes : (N + 1.0) * bytes;
        return traffic / bandwidth;
    }

    private GlobalArray Wrap(DeviceArray[] arrays)
    {
        var sharding = new NamedSharding(_mesh, new PartitionSpec("data"));
        long[] shape = [N, arrays[0].Length];
        DeviceBuffer[] views = [.. arrays.Select(a => a.Buffer)];
        return settings.ElementType switch
        {
            "double" => GlobalArray.FromDeviceBuffers<double>(shape, sharding, views),
            "int" => GlobalArray.FromDeviceBuffers<int>(shape, sharding, views),
            _ => GlobalArray.FromDeviceBuffers<float>(shape, sharding, views),
        };
    }

    private static void Write(DeviceArray array, double[] values)
    {
        switch (array)
        {
            case DeviceArray<double> d:
                d.CopyFrom(values);
                break;
            case DeviceArray<int> i:
                i.CopyFrom([.. values.Select(static v => (int)v)]);
                break;
            case DeviceArray<float> f:
                f.CopyFrom([.. values.Select(static v => (float)v)]);
                break;
        }
    }

    private static double[] Read(DeviceArray array) => array switch
    {
        DeviceArray<double> d => d.ToArray(),
        DeviceArray<int> i => [.. i.ToArray().Select(static v => (double)v)],
        DeviceArray<float> f => [.. f.ToArray().Select(static v => (double)v)],
        _ => throw new NotSupportedException(array.ElementType.Name),
    };
}
