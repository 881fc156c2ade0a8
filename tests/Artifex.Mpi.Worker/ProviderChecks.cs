using System.Globalization;

namespace Artifex.Mpi.Worker;

/// <summary>
/// The MPI provider across real processes: K = 2 devices per process, global arrays holding only their addressable
/// shards, every collective over a data axis that spans the processes, and a data × model mesh whose data axis crosses
/// processes while its model axis stays inside each process. Values are small integers, so every expected result is exact.
/// </summary>
internal sealed class ProviderChecks
{
    private const int Local = 2;
    private const int Block = 3;
    private readonly Failures _failures = new();

    public int Run()
    {
        using var provider = new MpiProvider(Local);
        int p = provider.ProcessIndex, n = provider.Devices.Count;
        _failures.Check(provider.LocalDevices.Count == Local && provider.LocalDevices.All(d => d.ProcessIndex == p), "local devices");
        CheckOneTimeout(provider);
        CheckDataAxis(provider, n);
        CheckLargeAllReduce(provider, n);
        CheckDistributed(provider, n);
        CheckGrid(provider);
        CheckPlacement(provider, n);
        CheckReproducible(provider, n);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {p}/{provider.ProcessCount} {_failures.Report("PROVIDER OK")}"));
        if (p == 0 && _failures.None)
        {
            Console.Out.WriteLine("PROVIDER PASS");
        }

        return _failures.None ? 0 : 1;
    }

    /// <summary>Device d's value: element i of its block is (d + 1)·(i + 1).</summary>
    private static float Value(int device, int i) => (device + 1) * (i + 1);

    private void CheckDataAxis(MpiProvider provider, int n)
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        float sumOfDevices = n * (n + 1) / 2f;
        var results = new Dictionary<string, float[]>[n];
        provider.RunSpmd(mesh, context =>
        {
            int d = context.DeviceIndex;
            AxisGroup data = context.GetAxisGroup("data");
            using DeviceArray<float> input = Filled(context.Device, d);
            using DeviceArray<float> output = DeviceArray.Allocate<float>(context.Device, Block);
            using DeviceArray<float> gathered = DeviceArray.Allocate<float>(context.Device, Block * n);
            using DeviceArray<float> wide = DeviceArray.Allocate<float>(context.Device, Block * n);
            using DeviceArray<float> scattered = DeviceArray.Allocate<float>(context.Device, Block);
            var mine = new Dictionary<string, float[]>(StringComparer.Ordinal);
            foreach (ReduceOp op in (ReduceOp[])[ReduceOp.Sum, ReduceOp.Mean, ReduceOp.Max, ReduceOp.Min])
            {
                context.AllReduce(input, output, op, data);
                mine[op.ToString()] = output.ToArray();
            }

            context.AllGather(input, gathered, data);
            mine["gather"] = gathered.ToArray();
            wide.CopyFrom([.. Enumerable.Range(0, Block * n).Select(i => (float)(d + i))]);
            context.ReduceScatter(wide, scattered, data);
            mine["scatter"] = scattered.ToArray();
            context.Broadcast(input, output, n - 1, data);
            mine["broadcast"] = output.ToArray();
            context.Barrier(data);
            results[d] = mine;
        });

        foreach (Device device in provider.LocalDevices)
        {
            int d = device.Id;
            Dictionary<string, float[]> r = results[d];
            _failures.Expect(r["Sum"], i => sumOfDevices * (i + 1), $"sum on {device}");
            _failures.Expect(r["Mean"], i => sumOfDevices * (i + 1) / n, $"mean on {device}");
            _failures.Expect(r["Max"], i => Value(n - 1, i), $"max on {device}");
            _failures.Expect(r["Min"], i => Value(0, i), $"min on {device}");
            _failures.Expect(r["gather"], i => Value(i / Block, i % Block), $"all_gather on {device}");
            _failures.Expect(r["scatter"], i => Enumerable.Range(0, n).Sum(k => (float)(k + (d * Block) + i)), $"psum_scatter on {device}");
            _failures.Expect(r["broadcast"], i => Value(n - 1, i), $"broadcast on {device}");
        }
    }

    /// <summary>In a multi-process job the provider's collective timeout is the job's MPI watchdog: one setting for both.</summary>
    private void CheckOneTimeout(MpiProvider provider)
    {
        TimeSpan before = provider.CollectiveTimeout;
        _failures.Check(MpiWatchdog.Timeout == before, $"the watchdog's timeout ({MpiWatchdog.Timeout}) is the provider's ({before})");
        provider.CollectiveTimeout = TimeSpan.FromSeconds(123);
        _failures.Check(MpiWatchdog.Timeout == TimeSpan.FromSeconds(123), "setting the provider's timeout sets the watchdog's");
        provider.CollectiveTimeout = before;
    }

    /// <summary>
    /// All-reduces large enough that the local step runs on every local participant's thread (the CPU provider's parallel
    /// pass) before the one MPI call: sums and means, in place and out of place.
    /// </summary>
    private void CheckLargeAllReduce(MpiProvider provider, int n)
    {
        const int Length = 1 << 16;
        var mesh = new Mesh(provider.Devices, ("data", n));
        float sumOfDevices = n * (n + 1) / 2f;
        var results = new float[n][][];
        provider.RunSpmd(mesh, context =>
        {
            int d = context.DeviceIndex;
            AxisGroup data = context.GetAxisGroup("data");
            float[] values = [.. Enumerable.Range(0, Length).Select(i => (d + 1f) * ((i % 7) + 1))];
            using DeviceArray<float> input = DeviceArray.FromHost(context.Device, new HostArray<float>(values, Length));
            using DeviceArray<float> output = DeviceArray.Allocate<float>(context.Device, Length);
            context.AllReduce(input, output, ReduceOp.Mean, data);
            float[] mean = output.ToArray();
            context.AllReduce(input, input, ReduceOp.Sum, data);
            results[d] = [mean, input.ToArray()];
        });

        foreach (Device device in provider.LocalDevices)
        {
            _failures.Expect(results[device.Id][0], i => sumOfDevices * ((i % 7) + 1) / n, $"large mean on {device}");
            _failures.Expect(results[device.Id][1], i => sumOfDevices * ((i % 7) + 1), $"large in-place sum on {device}");
        }
    }

    /// <summary>
    /// The Distributed layer across processes: DataParallel's bucketed gradient mean (small leaves packed into one bucket, a
    /// large leaf alone), the weighted mean, and DistributedMetrics.
    /// </summary>
    private void CheckDistributed(MpiProvider provider, int n)
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var results = new float[n][][];
        provider.RunSpmd(mesh, context =>
        {
            int d = context.DeviceIndex;
            Tree<DeviceArray> grads = Tree.Dict<DeviceArray>(
                ("small", DeviceArray.FromHost(context.Device, new HostArray<float>([d + 1f, 2f * (d + 1)], 2))),
                ("large", DeviceArray.FromHost(context.Device, new HostArray<float>([.. Enumerable.Range(0, 1 << 17).Select(i => (float)((d + 1) * (i % 5)))], 1 << 17))));
            Tree<DeviceArray> mean = new Artifex.Distributed.DataParallel().AllReduceGradients(grads);
            Tree<DeviceArray> weighted = new Artifex.Distributed.DataParallel().AllReduceGradientsWeighted(grads, weight: d + 1);
            Tree<DeviceArray> metric = new Artifex.Distributed.DistributedMetrics().ReduceSum(Tree.Dict<DeviceArray>(("small", grads["small"].Value)));
            results[d] = [mean["small"].Value.As<float>().ToArray(), mean["large"].Value.As<float>().ToArray(), weighted["small"].Value.As<float>().ToArray(), metric["small"].Value.As<float>().ToArray()];
            mean.DisposeLeaves();
            weighted.DisposeLeaves();
            metric.DisposeLeaves();
            grads.DisposeLeaves();
        });

        float sum = n * (n + 1) / 2f;
        float squares = Enumerable.Range(1, n).Sum(static v => (float)(v * v));
        foreach (Device device in provider.LocalDevices)
        {
            float[][] r = results[device.Id];
            _failures.Expect(r[0], i => sum * (i + 1) / n, $"bucketed gradient mean on {device}");
            _failures.Expect(r[1], i => sum * (i % 5) / n, $"large-leaf gradient mean on {device}");
            _failures.Expect(r[2], i => squares * (i + 1) / sum, $"weighted gradient mean on {device}");
            _failures.Expect(r[3], i => sum * (i + 1), $"metric sum on {device}");
        }
    }

    private void CheckGrid(MpiProvider provider)
    {
        // Devices are process-major, so "data" runs across processes and "model" inside each one.
        int processes = provider.ProcessCount;
        var mesh = new Mesh(provider.Devices, ("data", processes), ("model", Local));
        var sums = new float[provider.Devices.Count][][];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> input = Filled(context.Device, context.DeviceIndex);
            using DeviceArray<float> output = DeviceArray.Allocate<float>(context.Device, Block);
            float[][] mine = new float[3][];
            int k = 0;
            foreach (string[] axes in (string[][])[["data"], ["model"], ["data", "model"]])
            {
                context.AllReduce(input, output, ReduceOp.Sum, context.GetAxisGroup(axes));
                mine[k++] = output.ToArray();
            }

            sums[context.DeviceIndex] = mine;
        });

        foreach (Device device in provider.LocalDevices)
        {
            int model = device.Id % Local;
            float overData = Enumerable.Range(0, processes).Sum(q => (q * Local) + model + 1f);
            float overModel = Enumerable.Range(0, Local).Sum(m => (device.ProcessIndex * Local) + m + 1f);
            float overAll = Enumerable.Range(1, provider.Devices.Count).Sum(static v => (float)v);
            _failures.Expect(sums[device.Id][0], i => overData * (i + 1), $"grid sum over 'data' on {device}");
            _failures.Expect(sums[device.Id][1], i => overModel * (i + 1), $"grid sum over 'model' on {device}");
            _failures.Expect(sums[device.Id][2], i => overAll * (i + 1), $"grid sum over ('data', 'model') on {device}");
        }
    }

    private void CheckPlacement(MpiProvider provider, int n)
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        float[] global = [.. Enumerable.Range(0, n * Block).Select(static i => (float)i)];
        using GlobalArray<float> sharded = GlobalArray.DevicePut(new HostArray<float>(global, n, Block), new NamedSharding(mesh, new PartitionSpec("data")));
        using GlobalArray<float> replicated = GlobalArray.DevicePut(new HostArray<float>(global, n, Block), new NamedSharding(mesh, new PartitionSpec()));
        _failures.Check(sharded.Shards.Length == Local && sharded.Shards.All(s => provider.IsAddressable(s.Device)), "a sharded array holds only the addressable shards");
        _failures.Check(replicated.ToArray().SequenceEqual(global), "a replicated array reads back whole on every process");
        bool refused = false;
        try
        {
            _ = sharded.ToArray();
        }
        catch (InvalidOperationException error) when (error.Message.Contains("not fully addressable", StringComparison.Ordinal))
        {
            refused = true;
        }

        _failures.Check(refused == (provider.ProcessCount > 1), "an array other processes hold part of is not gathered silently");
        provider.AllReduceShards(sharded, ReduceOp.Sum, "data");
        foreach (Shard shard in sharded.Shards)
        {
            float[] values = new float[Block];
            provider.CopyToHost<float>(shard.Buffer, 0, values);
            _failures.Expect(values, i => Enumerable.Range(0, n).Sum(k => (float)((k * Block) + i)), $"host-issued all-reduce on {shard.Device}");
        }
    }

    /// <summary>Reproducible mode across processes gives the bits one state gets from every device's values deposited in turn.</summary>
    private void CheckReproducible(MpiProvider provider, int n)
    {
        const int length = 1000;
        static float Noisy(int device, int i) => (float)(Math.Sin((device * 7919) + i) * 1000);
        var mesh = new Mesh(provider.Devices, ("data", n));
        var results = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> input = DeviceArray.Allocate<float>(context.Device, length);
            using DeviceArray<float> output = DeviceArray.Allocate<float>(context.Device, length);
            input.CopyFrom([.. Enumerable.Range(0, length).Select(i => Noisy(context.DeviceIndex, i))]);
            context.AllReduce(input, output, ReduceOp.Sum, context.GetAxisGroup("data"), Determinism.Reproducible);
            results[context.DeviceIndex] = output.ToArray();
        });

        Device local = provider.LocalDevices[0];
        using DeviceBuffer state = provider.Allocate<double>(local, 3 * length);
        using DeviceBuffer values = provider.Allocate<float>(local, length);
        using DeviceBuffer expected = provider.Allocate<float>(local, length);
        provider.Kernels.ReproducibleReset(state);
        for (int d = n - 1; d >= 0; d--)
        {
            provider.CopyFromHost<float>([.. Enumerable.Range(0, length).Select(i => Noisy(d, i))], values);
            provider.Kernels.ReproducibleDeposit(state, values);
        }

        provider.Kernels.ReproducibleFinalize(state, expected, 1.0);
        float[] bits = new float[length];
        provider.CopyToHost<float>(expected, 0, bits);
        foreach (Device device in provider.LocalDevices)
        {
            _failures.Check(results[device.Id].SequenceEqual(bits), $"reproducible sum on {device} equals one state's deposits in reverse order");
        }
    }

    private static DeviceArray<float> Filled(Device device, int index)
    {
        DeviceArray<float> array = DeviceArray.Allocate<float>(device, Block);
        array.CopyFrom([.. Enumerable.Range(0, Block).Select(i => Value(index, i))]);
        return array;
    }
}
