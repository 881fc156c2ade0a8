using System.Diagnostics;
using System.Numerics;
using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

/// <summary>
/// Randomized rounds of collectives over random meshes, ops, element types, lengths and axis sets, each checked against
/// the host reference; about one round in ten injects a fault (a participant throws, or skips a collective under a
/// short timeout). One provider per device count is reused across rounds, so a fault that leaves a worker blocked,
/// a rendezvous half-reset or a buffer alive shows up in a later round.
/// </summary>
public sealed class CpuCollectiveStressTests
{
    private const int MaxRounds = 3000;
    private const int MaxTimeoutRounds = 12;
    private static readonly TimeSpan s_roundBudget = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(60);
    private static readonly int[] s_deviceCounts = [1, 2, 3, 4, 8];

    private enum Kind
    {
        AllReduce,
        AllReduceInPlace,
        AllGather,
        AllGatherTiled,
        PsumScatter,
        Broadcast,
        Barrier,
    }

    [Fact]
    public async Task RandomRounds_WithInjectedFaultsAndTimeouts_MatchReferenceWithoutDeadlockOrLeak()
    {
        var clock = Stopwatch.StartNew();
        var providers = s_deviceCounts.ToDictionary(n => n, n => new CpuProvider(n));
        var stats = new Stats();
        try
        {
            Task work = Task.Run(() => RunRounds(providers, stats), TestContext.Current.CancellationToken);
            try
            {
                await work.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"The stress test made no progress for 20 s: deadlock in round {Volatile.Read(ref stats.Rounds)} ({stats.Current}).");
            }

            foreach ((int n, CpuProvider provider) in providers)
            {
                Assert.True(provider.LiveBufferCount == 0, $"{provider.LiveBufferCount} buffers of the {n}-device provider are still live.");
            }
        }
        finally
        {
            foreach (CpuProvider provider in providers.Values)
            {
                provider.Dispose();
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{stats.Rounds} rounds, {stats.Faults} injected faults ({stats.Timeouts} timeouts) in {clock.Elapsed.TotalSeconds:F1} s.");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"The stress test took {clock.Elapsed.TotalSeconds:F1} s.");
        Assert.True(stats.Rounds >= 100, $"Only {stats.Rounds} rounds ran in {s_roundBudget.TotalSeconds} s.");
        Assert.True(stats.Faults > 0, "No round injected a fault.");
        Assert.True(stats.Timeouts > 0, "No round injected a timeout.");
    }

    private static void RunRounds(Dictionary<int, CpuProvider> providers, Stats stats)
    {
        var random = new Random(0x5EED);
        var clock = Stopwatch.StartNew();
        while (stats.Rounds < MaxRounds && clock.Elapsed < s_roundBudget)
        {
            RunRound(random, providers, stats);
            Interlocked.Increment(ref stats.Rounds);
        }
    }

    private static void RunRound(Random random, Dictionary<int, CpuProvider> providers, Stats stats)
    {
        int round = stats.Rounds;
        int n = s_deviceCounts[random.Next(s_deviceCounts.Length)];
        CpuProvider provider = providers[n];
        Mesh mesh = RandomMesh(random, provider);
        Step[] steps = [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomStep(random, mesh))];
        Fault? fault = random.NextDouble() < 0.1 ? RandomFault(random, mesh, steps, round, stats) : null;
        stats.Current = $"round {round}: {mesh}, devices [{string.Join(", ", mesh.Devices)}], steps [{string.Join("; ", steps.Select(s => s.ToString()))}], fault {fault?.ToString() ?? "none"}";

        provider.CollectiveTimeout = fault is { Timeout: true } ? TimeSpan.FromMilliseconds(200) : s_defaultTimeout;
        Action region = () => provider.RunSpmd(mesh, context =>
        {
            for (int j = 0; j < steps.Length; j++)
            {
                if (fault is not null && fault.Device == context.DeviceIndex && fault.Step == j)
                {
                    if (fault.Timeout)
                    {
                        return;
                    }

                    throw fault.Error;
                }

                steps[j].Run(context);
            }
        });

        if (fault is null)
        {
            region();
            foreach (Step step in steps)
            {
                step.Check(mesh, stats.Current);
            }
        }
        else if (fault.Timeout)
        {
            TimeoutException error = Assert.Throws<TimeoutException>(region);
            Assert.Contains("never arrived", error.Message, StringComparison.Ordinal);
            if (steps.Length == 1)
            {
                // With one step, only the skipping device's group waits: the message names its axes and its rank.
                Assert.Contains(steps[0].AxesText, error.Message, StringComparison.Ordinal);
                int rank = CollectiveReference.RankOf(mesh, fault.Device, steps[0].Axes);
                Assert.Matches($@"\branks? (\d+, )*{rank}(, \d+)* of", error.Message);
            }
        }
        else
        {
            Exception error = Assert.ThrowsAny<Exception>(region);
            Assert.Same(fault.Error, error);
        }

        provider.CollectiveTimeout = s_defaultTimeout;
        Assert.True(provider.LiveBufferCount == 0, $"{provider.LiveBufferCount} buffers live after {stats.Current}.");
    }

    private static Mesh RandomMesh(Random random, CpuProvider provider)
    {
        int n = provider.Devices.Count;
        Device[] devices = [.. provider.Devices];
        if (random.Next(3) == 0)
        {
            random.Shuffle(devices);
        }

        int[] divisors = [.. Enumerable.Range(1, n).Where(d => n % d == 0)];
        if (random.Next(2) == 0)
        {
            return new Mesh(devices, ("data", n));
        }

        int dataSize = divisors[random.Next(divisors.Length)];
        return new Mesh(devices, ("data", dataSize), ("model", n / dataSize));
    }

    private static Step RandomStep(Random random, Mesh mesh)
    {
        string[][] axisSets = mesh.Rank == 1 ? [["data"]] : [["data"], ["model"], ["data", "model"], ["model", "data"]];
        string[] axes = axisSets[random.Next(axisSets.Length)];
        var kind = (Kind)random.Next(Enum.GetValues<Kind>().Length);
        int length = random.Next(0, 5001);
        bool useContext = axes.Length > 1 || random.Next(2) == 0;
        return random.Next(4) switch
        {
            0 => new Step<float>(random, mesh, kind, axes, length, useContext, floating: true, static (r, count) => CollectiveReference.MixedFloats(r, count)),
            1 => new Step<double>(random, mesh, kind, axes, length, useContext, floating: true, static (r, count) => CollectiveReference.MixedDoubles(r, count)),
            2 => new Step<int>(random, mesh, kind, axes, length, useContext, floating: false, static (r, count) => CollectiveReference.Ints(r, count)),
            _ => new Step<long>(random, mesh, kind, axes, length, useContext, floating: false, static (r, count) => CollectiveReference.Longs(r, count)),
        };
    }

    private static Fault RandomFault(Random random, Mesh mesh, Step[] steps, int round, Stats stats)
    {
        int device = random.Next(mesh.Size);
        int step = random.Next(steps.Length);
        Interlocked.Increment(ref stats.Faults);

        // A skipped collective only times out when someone else waits for it.
        bool someoneWaits = CollectiveReference.GroupMembers(mesh, device, steps[step].Axes).Length > 1;
        if (someoneWaits && stats.Timeouts < MaxTimeoutRounds && random.Next(4) == 0)
        {
            Interlocked.Increment(ref stats.Timeouts);
            return new Fault(device, step, Timeout: true, new InvalidOperationException("unused"));
        }

        return new Fault(device, step, Timeout: false, new InvalidOperationException($"injected fault in round {round} on device {device} before step {step}"));
    }

    private sealed record Fault(int Device, int Step, bool Timeout, Exception Error);

    private sealed class Stats
    {
        public int Rounds;
        public int Faults;
        public int Timeouts;

        public string Current { get; set; } = "not started";
    }

    private abstract class Step
    {
        protected Step(Kind kind, string[] axes)
        {
            Kind = kind;
            Axes = axes;
        }

        public Kind Kind { get; }

        public string[] Axes { get; }

        public string AxesText => Axes.Length == 1 ? $"'{Axes[0]}'" : $"({string.Join(", ", Axes.Select(a => $"'{a}'"))})";

        public abstract void Run(SpmdContext context);

        public abstract void Check(Mesh mesh, string round);
    }

    private sealed class Step<T> : Step
        where T : unmanaged, INumber<T>
    {
        private readonly ReduceOp _op;
        private readonly int _root;
        private readonly int _groupSize;
        private readonly int _length;
        private readonly bool _useContext;
        private readonly T[][] _inputs;
        private readonly T[]?[] _results;
        private readonly long[]?[] _shapes;

        public Step(Random random, Mesh mesh, Kind kind, string[] axes, int length, bool useContext, bool floating, Func<Random, int, T[]> generate)
            : base(kind, axes)
        {
            _groupSize = CollectiveReference.GroupMembers(mesh, 0, axes).Length;
            _op = floating ? (ReduceOp)random.Next(4) : (ReduceOp)random.Next(1, 4);
            _root = random.Next(_groupSize);
            _useContext = useContext;

            // psum_scatter needs a length divisible by the group size.
            _length = kind == Kind.PsumScatter ? length / _groupSize * _groupSize : length;
            _inputs = [.. Enumerable.Range(0, mesh.Size).Select(_ => generate(random, _length))];
            _results = new T[mesh.Size][];
            _shapes = new long[mesh.Size][];
        }

        public override void Run(SpmdContext context)
        {
            int k = context.DeviceIndex;
            AxisGroup group = context.GetAxisGroup(Axes);
            using DeviceArray<T> x = DeviceArray.FromHost(context.Device, new HostArray<T>(_inputs[k], _length));
            switch (Kind)
            {
                case Kind.AllReduce or Kind.AllReduceInPlace:
                    RunAllReduce(context, group, x);
                    break;
                case Kind.AllGather or Kind.AllGatherTiled:
                    RunAllGather(context, group, x);
                    break;
                case Kind.PsumScatter:
                    RunPsumScatter(context, group, x);
                    break;
                case Kind.Broadcast:
                    RunBroadcast(context, group, x);
                    break;
                default:
                    if (_useContext)
                    {
                        context.Barrier(group);
                    }
                    else
                    {
                        Collectives.Barrier(Axes[0]);
                    }

                    Record(k, x);
                    break;
            }
        }

        public override void Check(Mesh mesh, string round)
        {
            for (int k = 0; k < mesh.Size; k++)
            {
                (T[] expected, long[] shape) = Expected(mesh, k);
                string where = $"{this} on device {k} in {round}";
                Assert.True(shape.SequenceEqual(_shapes[k]!), $"{where}: shape ({string.Join(", ", _shapes[k]!)}), expected ({string.Join(", ", shape)}).");
                CollectiveReference.AssertBitEqual<T>(expected, _results[k], where);
            }
        }

        public override string ToString() =>
            $"{Kind}{(_useContext ? " (context)" : string.Empty)} {typeof(T).Name}[{_length}] over {AxesText}{(Kind is Kind.AllReduce or Kind.AllReduceInPlace ? $" op {_op}" : string.Empty)}{(Kind == Kind.Broadcast ? $" root {_root}" : string.Empty)}";

        private void RunAllReduce(SpmdContext context, AxisGroup group, DeviceArray<T> x)
        {
            if (Kind == Kind.AllReduceInPlace)
            {
                Collectives.AllReduceInPlace(x, _op, Axes);
                Record(context.DeviceIndex, x);
            }
            else if (_useContext)
            {
                using DeviceArray<T> y = DeviceArray.Allocate<T>(context.Device, _length);
                context.AllReduce(x, y, _op, group);
                Record(context.DeviceIndex, y);
            }
            else
            {
                using var y = (DeviceArray<T>)Collectives.AllReduce(x, _op, Axes[0]);
                Record(context.DeviceIndex, y);
            }
        }

        private void RunAllGather(SpmdContext context, AxisGroup group, DeviceArray<T> x)
        {
            if (_useContext)
            {
                long[] shape = Kind == Kind.AllGather ? [_groupSize, _length] : [(long)_groupSize * _length];
                using DeviceArray<T> y = DeviceArray.Allocate<T>(context.Device, shape);
                context.AllGather(x, y, group);
                Record(context.DeviceIndex, y);
            }
            else
            {
                using var y = (DeviceArray<T>)Collectives.AllGather(x, Axes[0], tiled: Kind == Kind.AllGatherTiled);
                Record(context.DeviceIndex, y);
            }
        }

        private void RunPsumScatter(SpmdContext context, AxisGroup group, DeviceArray<T> x)
        {
            if (_useContext)
            {
                using DeviceArray<T> y = DeviceArray.Allocate<T>(context.Device, _length / _groupSize);
                context.ReduceScatter(x, y, group);
                Record(context.DeviceIndex, y);
            }
            else
            {
                using var y = (DeviceArray<T>)Collectives.PsumScatter(x, Axes[0]);
                Record(context.DeviceIndex, y);
            }
        }

        private void RunBroadcast(SpmdContext context, AxisGroup group, DeviceArray<T> x)
        {
            if (_useContext)
            {
                context.Broadcast(x, x, _root, group);
                Record(context.DeviceIndex, x);
            }
            else
            {
                using var y = (DeviceArray<T>)Collectives.Broadcast(x, _root, Axes[0]);
                Record(context.DeviceIndex, y);
            }
        }

        private (T[] Values, long[] Shape) Expected(Mesh mesh, int device)
        {
            int[] members = CollectiveReference.GroupMembers(mesh, device, Axes);
            int block = _length / _groupSize;
            switch (Kind)
            {
                case Kind.AllReduce or Kind.AllReduceInPlace:
                    return (CollectiveReference.Reduce(_inputs, members, _op), [_length]);
                case Kind.AllGather:
                    return ([.. members.SelectMany(m => _inputs[m])], [_groupSize, _length]);
                case Kind.AllGatherTiled:
                    return ([.. members.SelectMany(m => _inputs[m])], [(long)_groupSize * _length]);
                case Kind.PsumScatter:
                    int rank = CollectiveReference.RankOf(mesh, device, Axes);
                    return (CollectiveReference.Reduce(_inputs, members, ReduceOp.Sum).AsSpan(rank * block, block).ToArray(), [block]);
                case Kind.Broadcast:
                    return (_inputs[members[_root]], [_length]);
                default:
                    return (_inputs[device], [_length]);
            }
        }

        private void Record(int device, DeviceArray<T> array)
        {
            _results[device] = array.ToArray();
            _shapes[device] = [.. array.Shape];
        }
    }
}
