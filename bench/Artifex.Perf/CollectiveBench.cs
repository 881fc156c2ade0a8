using System.Diagnostics;
using System.Runtime.InteropServices;
using Artifex.Benchmarks;
using Artifex.Cpu;
using Artifex.Mpi;

namespace Artifex.Perf;

/// <summary>
/// Measures one collective at one size on N devices, out of place and in place: for each mode, checks every output element
/// once against the exact expected value, then times warm-up plus timed iterations; and measures the traffic bound over
/// the same buffers.
/// </summary>
/// <remarks>
/// On a multi-process provider (<c>--provider mpi</c> under <c>mpirun</c>) the mesh spans every process's devices, but each
/// process allocates, initializes and checks only its own devices' buffers; the wrong-element counts and the sample times
/// are then summed over the processes (one small all-reduce), so every process reports the same figures: the whole job's
/// wrong elements, and each sample's time averaged over the processes, as the C MPI peer and nccl-tests do.
/// </remarks>
internal sealed unsafe class CollectiveBench(PerfSettings settings, DeviceProvider provider)
{
    /// <summary>Each size is timed as this many samples of <c>--iters</c> iterations; the median sample is reported (this VM has rare multi-millisecond stalls).</summary>
    private const int Samples = 5;

    private readonly Mesh _mesh = new(provider.Devices, ("data", provider.Devices.Count));

    /// <summary>This process's devices, in mesh order: a contiguous run of the mesh (device ids are process-major).</summary>
    private readonly Device[] _local = [.. provider.LocalDevices];

    /// <summary>The mesh index (the collective's rank) of this process's first device.</summary>
    private readonly int _firstLocal = FirstLocalIndex(provider);

    private int N => provider.Devices.Count;

    private CollectiveKind Kind => settings.Kind;

    private bool HostIssued => settings.HostIssued;

    private bool SpansProcesses => provider.ProcessCount > 1;

    /// <summary>
    /// Gets a fault for tests to inject: it runs on each participant just before each collective, with that participant's
    /// input and output (e.g. clearing the output first, as a runtime that mishandles in place would).
    /// </summary>
    internal Action<DeviceArray, DeviceArray>? BeforeStep { get; init; }

    /// <summary>
    /// Measures one size as nccl-tests does: out of place, then in place, each on its own buffers, checked after one
    /// collective on freshly written values and then timed. A mode this run cannot measure gets NaN figures (n/a).
    /// </summary>
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
        Measured outOfPlace = MeasuresOutOfPlace ? Measure(bytes, inCount, outCount, inPlace: false, withBound: true) : Measured.None;
        Measured inPlace = MeasuresInPlace ? Measure(bytes, inCount, outCount, inPlace: true, withBound: !MeasuresOutOfPlace) : Measured.None;
        double algbw = bytes / (outOfPlace.Micros * 1e-6) / 1e9;
        double inPlaceAlgbw = bytes / (inPlace.Micros * 1e-6) / 1e9;
        return new ResultRow(bytes, total, settings.ElementType, RedOpName, outOfPlace.Micros, algbw, algbw * BusFactor(), outOfPlace.Wrong,
            double.IsNaN(outOfPlace.Bound) ? inPlace.Bound : outOfPlace.Bound, null, inPlace.Micros, inPlaceAlgbw, inPlaceAlgbw * BusFactor(), inPlace.Wrong);
    }

    /// <summary>The host form's <c>AllReduceShards</c> reduces the shards where they are: it has no out-of-place form.</summary>
    private bool MeasuresOutOfPlace => !HostIssued;

    private bool MeasuresInPlace => settings.Kind switch
    {
        // A reproducible Sum in place would leave its window (|x| ≤ 2^30) within a few dozen calls: each multiplies the
        // values by N. Its Mean stays put (the mean of equal values), so it is measured.
        CollectiveKind.AllReduce => !(settings.Determinism == Determinism.Reproducible && settings.Op == ReduceOp.Sum),
        CollectiveKind.AllGather => true,
        CollectiveKind.ReduceScatter => ReduceScatterStaysInWindow,
        _ => true,
    };

    /// <summary>
    /// Gets a value indicating whether a reproducible reduce-scatter can run in place for the whole run: each call adds the
    /// other ranks' blocks into this rank's block, so its values grow by up to 17·N(N+1)/2 per call, and a reproducible sum
    /// refuses values beyond 2^30.
    /// </summary>
    private bool ReduceScatterStaysInWindow => settings.Determinism != Determinism.Reproducible
        || (1.0 + settings.Warmup + (Samples * (double)settings.Iterations)) * 17 * N * (N + 1) / 2 <= 1 << 30;

    private Measured Measure(long bytes, long inCount, long outCount, bool inPlace, bool withBound)
    {
        using var buffers = new BenchBuffers(this, inCount, outCount, inPlace);
        DeviceArray[] inputs = buffers.Inputs, outputs = buffers.Outputs;
        Initialize(inputs, outputs);
        RunOnce(buffers, iterations: 1, warmup: 0, samples: 1);
        long wrong = (long)SumOverProcesses([CountWrong(outputs, inCount)])[0];
        WarmMemory(inputs, outputs);
        double micros = Median(SumOverProcesses(RunOnce(buffers, settings.Iterations, settings.Warmup)).Select(t => t / provider.ProcessCount).ToArray());
        // The bound comes from a host memory probe over this process's buffers; a GPU's memory is not host-addressable, and
        // across processes MPI's traffic (copies through shared-memory segments) is not the in-process 2·N·S, so none there.
        // It is probed over the large buffers (whole, in place too: a view is a slot of one of them).
        double bound = withBound && HasHostBound ? Bound(settings.Kind == CollectiveKind.AllGather ? outputs : inputs, bytes) : double.NaN;
        return new Measured(micros, wrong, bound);
    }

    private static int FirstLocalIndex(DeviceProvider provider)
    {
        Device first = provider.LocalDevices[0];
        int index = 0;
        while (provider.Devices[index] != first)
        {
            index++;
        }

        return index;
    }

    private bool HasHostBound => provider is CpuProvider || (provider is MpiProvider && provider.ProcessCount == 1);

    /// <summary>
    /// Sums <paramref name="values"/> over the processes (element by element); on one process, returns them. Every process
    /// must call it at the same point (it runs a region over the whole mesh).
    /// </summary>
    private double[] SumOverProcesses(double[] values)
    {
        if (provider.ProcessCount == 1)
        {
            return values;
        }

        DeviceArray<double>[] sums = [.. _local.Select((d, slot) => DeviceArray.FromHost(d, new HostArray<double>(slot == 0 ? values : new double[values.Length], values.Length)))];
        try
        {
            provider.RunSpmd(_mesh, context =>
            {
                DeviceArray<double> sum = sums[context.DeviceIndex - _firstLocal];
                context.AllReduce(sum, sum, ReduceOp.Sum, context.GetAxisGroup("data"));
            });
            return sums[0].ToArray();
        }
        finally
        {
            foreach (DeviceArray<double> sum in sums)
            {
                sum.Dispose();
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

    private void Initialize(DeviceArray[] inputs, DeviceArray[] outputs)
    {
        // Outputs start as a value no correct result has (every expected value is positive), so an element the collective
        // never wrote counts as wrong even when the allocator hands back a buffer still holding the last run's results.
        // Inputs are written after: in place, an input is its output or a slot of it.
        foreach (DeviceArray output in outputs)
        {
            Fill(output, -1);
        }

        for (int slot = 0; slot < inputs.Length; slot++)
        {
            int rank = _firstLocal + slot;
            double[] values = [.. Enumerable.Range(0, (int)inputs[slot].Length).Select(i => Input(rank, i))];
            Write(inputs[slot], values);
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

    private double CountWrong(DeviceArray[] outputs, long inCount)
    {
        long wrong = 0;
        for (int slot = 0; slot < outputs.Length; slot++)
        {
            double[] actual = Read(outputs[slot]);
            for (long i = 0; i < actual.Length; i++)
            {
                if (actual[i] != Expected(_firstLocal + slot, i, inCount))
                {
                    wrong++;
                }
            }
        }

        return wrong;
    }

    /// <summary>Times <paramref name="samples"/> samples of <paramref name="iterations"/> collectives on this process's first device; returns µs per collective for each.</summary>
    private double[] RunOnce(BenchBuffers buffers, int iterations, int warmup, int samples = Samples)
    {
        if (buffers.Shards is { } shards)
        {
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

            return hostSamples;
        }

        var times = new double[samples];
        provider.RunSpmd(_mesh, context =>
        {
            AxisGroup group = context.GetAxisGroup("data");
            int slot = context.DeviceIndex - _firstLocal;
            DeviceArray input = buffers.Inputs[slot];
            DeviceArray output = buffers.Outputs[slot];
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

                if (slot == 0)
                {
                    // GPU collectives are only queued by Step: the time counts once the last one has finished everywhere.
                    WaitForDevices();
                    times[s] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / iterations;
                }
            }
        });
        return times;
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
        BeforeStep?.Invoke(input, output);
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
            pointers[k] = (float*)((CpuBuffer)large[k].Buffer).Address;
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

    private static void Fill(DeviceArray array, double value)
    {
        switch (array)
        {
            case DeviceArray<double> d:
                Fill(d, value);
                break;
            case DeviceArray<int> i:
                Fill(i, (int)value);
                break;
            case DeviceArray<float> f:
                Fill(f, (float)value);
                break;
        }
    }

    private static void Fill<T>(DeviceArray<T> array, T value)
        where T : unmanaged
    {
        var values = new T[array.Length];
        Array.Fill(values, value);
        array.CopyFrom(values);
    }

    private static double[] Read(DeviceArray array) => array switch
    {
        DeviceArray<double> d => d.ToArray(),
        DeviceArray<int> i => [.. i.ToArray().Select(static v => (double)v)],
        DeviceArray<float> f => [.. f.ToArray().Select(static v => (double)v)],
        _ => throw new NotSupportedException(array.ElementType.Name),
    };

    /// <summary>
    /// This process's buffers for one size and mode: one input and one output per local device (the same array in place, or
    /// a view of the input's or output's slot for an in-place reduce-scatter or all-gather, as nccl-tests passes them), and
    /// for the host form the global array whose shards the inputs are.
    /// </summary>
    private sealed class BenchBuffers : IDisposable
    {
        /// <summary>What this object frees, views first: a view is disposed before the array it is a slot of.</summary>
        private readonly List<IDisposable> _owned = [];

        public BenchBuffers(CollectiveBench bench, long inCount, long outCount, bool inPlace)
        {
            DeviceArray[] Allocate(long count) => Own(bench._local.Select(d => bench.Allocate(d, count)));
            if (bench.HostIssued && bench.SpansProcesses)
            {
                // Only addressable shards can exist across processes: place a global array (each process fills its own
                // rows) and use its shards as the inputs. AllReduceShards reduces them in place.
                Shards = bench.Place(inCount);
                _owned.Add(Shards);
                Inputs = [.. bench._local.Select(Shards.GetLocalBlock)];
                Outputs = Inputs;
            }
            else if (bench.HostIssued)
            {
                // A view of the device arrays as one global array; the arrays keep ownership, so it is never disposed.
                Inputs = Allocate(inCount);
                Shards = bench.Wrap(Inputs);
                Outputs = Inputs;
            }
            else if (!inPlace)
            {
                Inputs = Allocate(inCount);
                Outputs = Allocate(outCount);
            }
            else if (bench.Kind == CollectiveKind.AllGather)
            {
                // In place, this rank's input is its own block of the output (nccl-tests: sendbuff = recvbuff + rank·count).
                Outputs = Allocate(outCount);
                Inputs = Own(Slots(bench, Outputs, inCount));
            }
            else if (bench.Kind == CollectiveKind.ReduceScatter)
            {
                // In place, the output is this rank's block of its input (recvbuff = sendbuff + rank·recvcount).
                Inputs = Allocate(inCount);
                Outputs = Own(Slots(bench, Inputs, outCount));
            }
            else
            {
                Inputs = Allocate(inCount);
                Outputs = Inputs;
            }
        }

        public DeviceArray[] Inputs { get; }

        public DeviceArray[] Outputs { get; }

        /// <summary>Gets the global array the host form all-reduces, or null for the region form.</summary>
        public GlobalArray? Shards { get; }

        public void Dispose()
        {
            for (int i = _owned.Count - 1; i >= 0; i--)
            {
                _owned[i].Dispose();
            }
        }

        /// <summary>Views block <c>rank</c> (of <paramref name="count"/> elements) of each local device's array, without a copy.</summary>
        private static IEnumerable<DeviceArray> Slots(CollectiveBench bench, DeviceArray[] wholes, long count) =>
            wholes.Select((whole, slot) => Slot(whole, (bench._firstLocal + slot) * count, count));

        private static DeviceArray Slot(DeviceArray whole, long offset, long count) => whole.Slice(offset, count);

        private DeviceArray[] Own(IEnumerable<DeviceArray> arrays)
        {
            DeviceArray[] owned = [.. arrays];
            _owned.AddRange(owned);
            return owned;
        }
    }

    /// <summary>One mode's figures at one size: NaN where not measured.</summary>
    [StructLayout(LayoutKind.Auto)]
    private readonly record struct Measured(double Micros, long Wrong, double Bound)
    {
        public static Measured None => new(double.NaN, 0, double.NaN);
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

    /// <summary>Places an [N, <paramref name="count"/>] array of zeros sharded over the data axis; each process gets its own rows.</summary>
    private GlobalArray Place(long count)
    {
        var sharding = new NamedSharding(_mesh, new PartitionSpec("data"));
        long elements = N * count;
        return settings.ElementType switch
        {
            "double" => GlobalArray.DevicePut(new HostArray<double>(new double[elements], N, count), sharding),
            "int" => GlobalArray.DevicePut(new HostArray<int>(new int[elements], N, count), sharding),
            _ => GlobalArray.DevicePut(new HostArray<float>(new float[elements], N, count), sharding),
        };
    }
}
