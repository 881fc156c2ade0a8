using System.Diagnostics;
using System.Numerics;
using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

/// <summary>
/// The fault campaign: randomized rounds of collectives over random meshes, ops, element types, lengths and axis sets,
/// each checked against the host reference; about one round in five injects a fault — a participant throws, skips a
/// collective under a short timeout, disagrees with its group (collective, element type, count, shape, op), cancels the
/// region, issues a collective from another thread, or has its provider disposed under it. Every fault must end as an
/// error on the caller (never a hang, never a crash), leave no buffer live, and change no buffer of a rejected call. One
/// provider per device count is reused across rounds, so a fault that leaves a worker blocked, a rendezvous half-reset
/// or a buffer alive shows up in a later round.
/// </summary>
public sealed class CpuCollectiveStressTests
{
    /// <summary>Rounds per run (CI). <c>ARTIFEX_SOAK_ROUNDS</c> sets a longer soak.</summary>
    private const int DefaultRounds = 10_000;
    private const int MaxTimeoutRounds = 60;
    private static readonly TimeSpan s_faultTimeout = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_noProgress = TimeSpan.FromSeconds(120);
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

    private enum FaultKind
    {
        Throw,
        Skip,
        Mismatch,
        Cancel,
        OtherThread,
        DisposeProvider,
    }

    private enum Mismatch
    {
        Collective,
        ElementType,
        Count,
        Shape,
        Op,
    }

    [Fact]
    public async Task RandomRounds_WithInjectedFaults_MatchReferenceWithoutHangCrashLeakOrChangedBuffer()
    {
        int rounds = SoakRounds();
        var providers = s_deviceCounts.ToDictionary(n => n, n => new CpuProvider(n));
        var stats = new Stats();
        var clock = Stopwatch.StartNew();
        try
        {
            Task work = Task.Factory.StartNew(() => RunRounds(providers, stats, rounds), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            // A hang guard, not a time limit: the run fails only when no round finishes for a long time.
            int seen = -1;
            while (!work.IsCompleted)
            {
                await Task.WhenAny(work, Task.Delay(s_noProgress, TestContext.Current.CancellationToken));
                int now = Volatile.Read(ref stats.Rounds);
                Assert.False(!work.IsCompleted && now == seen, $"No round finished for {s_noProgress.TotalSeconds} s: a hang in round {now} ({stats.Current}).");
                seen = now;
            }

            await work;
            foreach ((int n, CpuProvider provider) in providers)
            {
                Assert.True(provider.LiveBufferCount == 0, $"{provider.LiveBufferCount} buffers of the {n}-device provider are still live.");
                Assert.True(provider.LeakedBufferCount == 0, $"{provider.LeakedBufferCount} buffers of the {n}-device provider were never disposed.");
            }
        }
        finally
        {
            foreach (CpuProvider provider in providers.Values)
            {
                provider.Dispose();
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{stats.Rounds} rounds, {stats.Faults} injected faults ({stats.Describe()}) in {clock.Elapsed.TotalSeconds:F1} s: 0 hangs, 0 crashes, 0 leaks, 0 changed buffers.");
        Assert.Equal(rounds, stats.Rounds);
        foreach (FaultKind kind in Enum.GetValues<FaultKind>())
        {
            Assert.True(stats.ByKind[(int)kind] > 0, $"No round injected a {kind} fault.");
        }
    }

    private static int SoakRounds()
    {
        string? text = Environment.GetEnvironmentVariable("ARTIFEX_SOAK_ROUNDS");
        return string.IsNullOrEmpty(text) ? DefaultRounds : int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void RunRounds(Dictionary<int, CpuProvider> providers, Stats stats, int rounds)
    {
        var random = new Random(0x5EED);
        while (stats.Rounds < rounds)
        {
            RunRound(random, providers, stats);
            Interlocked.Increment(ref stats.Rounds);
        }
    }

    private static void RunRound(Random random, Dictionary<int, CpuProvider> providers, Stats stats)
    {
        int round = stats.Rounds;
        int n = s_deviceCounts[random.Next(s_deviceCounts.Length)];
        Mesh mesh = RandomMesh(random, providers[n]);
        Step[] steps = [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomStep(random, mesh))];
        Fault? fault = random.NextDouble() < 0.2 ? RandomFault(random, mesh, steps, round, stats) : null;
        stats.Current = $"round {round}: {mesh}, devices [{string.Join(", ", mesh.Devices)}], steps [{string.Join("; ", steps.Select(s => s.ToString()))}], fault {fault?.ToString() ?? "none"}";

        // A disposal fault gets a provider of its own, so the shared ones live on; its mesh maps onto the new devices.
        CpuProvider provider = fault?.Kind == FaultKind.DisposeProvider ? new CpuProvider(n) : providers[n];
        if (!ReferenceEquals(provider, providers[n]))
        {
            mesh = new Mesh([.. mesh.Devices.Select(d => provider.Devices[d.Id])], [.. mesh.AxisNames.Select((name, i) => new MeshAxis(name, mesh.AxisSizes[i]))]);
        }

        using var state = new RoundState();
        provider.CollectiveTimeout = fault is { Kind: FaultKind.Skip } ? s_faultTimeout : s_defaultTimeout;
        Action region = () => provider.RunSpmd(mesh, context => RunBody(context, steps, fault, state, provider), state.Cancellation.Token);
        if (fault?.Kind == FaultKind.DisposeProvider)
        {
            // Disposal starts on another thread: it cancels the region, or finds it already over and waits for nothing.
            Exception? error = Record.Exception(region);
            Assert.True(error is null or OperationCanceledException, $"{stats.Current}: {error}");
            state.Disposal!.GetAwaiter().GetResult();
            Assert.Equal(0, provider.LiveBufferCount);
            return;
        }

        try
        {
            CheckOutcome(region, fault, steps, mesh, stats.Current);
        }
        catch (Xunit.Sdk.XunitException error)
        {
            throw new Xunit.Sdk.XunitException($"{stats.Current}: {error.Message}", error);
        }

        provider.CollectiveTimeout = s_defaultTimeout;
        Assert.True(provider.LiveBufferCount == 0, $"{provider.LiveBufferCount} buffers live after {stats.Current}.");
    }

    private static void RunBody(SpmdContext context, Step[] steps, Fault? fault, RoundState state, CpuProvider provider)
    {
        for (int j = 0; j < steps.Length; j++)
        {
            if (fault is not null && fault.Device == context.DeviceIndex && fault.Step == j)
            {
                switch (fault.Kind)
                {
                    case FaultKind.Skip:
                        return;
                    case FaultKind.Throw:
                        throw fault.Error;
                    case FaultKind.Cancel:
                        state.Cancellation.Cancel();
                        break;
                    case FaultKind.OtherThread:
                        Step step = steps[j];
                        Task.Run(() => step.Run(context)).GetAwaiter().GetResult();
                        continue;
                    case FaultKind.DisposeProvider:
                        state.Disposal = Task.Run(provider.Dispose);
                        break;
                }
            }

            steps[j].Run(context);
        }
    }

    private static void CheckOutcome(Action region, Fault? fault, Step[] steps, Mesh mesh, string round)
    {
        switch (fault?.Kind)
        {
            case null:
            case FaultKind.Mismatch:
                // A mismatch is refused to every member of the faulty device's group, which goes on; the others run.
                region();
                foreach (Step step in steps)
                {
                    step.Check(mesh, round);
                }

                break;
            case FaultKind.Skip:
                TimeoutException timeout = Assert.Throws<TimeoutException>(region);
                Assert.Contains("never arrived", timeout.Message, StringComparison.Ordinal);
                if (steps.Length == 1)
                {
                    // With one step, only the skipping device's group waits: the message names its axes and its rank.
                    Assert.Contains(steps[0].AxesText, timeout.Message, StringComparison.Ordinal);
                    int rank = CollectiveReference.RankOf(mesh, fault.Device, steps[0].Axes);
                    Assert.Matches($@"\branks? (\d+, )*{rank}(, \d+)* of", timeout.Message);
                }

                break;
            case FaultKind.Throw:
                Assert.Same(fault.Error, Assert.ThrowsAny<Exception>(region));
                break;
            case FaultKind.Cancel:
                Assert.IsType<OperationCanceledException>(Assert.ThrowsAny<Exception>(region), exactMatch: false);
                break;
            default:
                var wrongThread = Assert.IsType<InvalidOperationException>(Assert.ThrowsAny<Exception>(region));
                Assert.Contains("from another thread than its body's", wrongThread.Message, StringComparison.Ordinal);
                break;
        }
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

    private static string[] RandomAxes(Random random, Mesh mesh)
    {
        string[][] axisSets = mesh.Rank == 1 ? [["data"]] : [["data"], ["model"], ["data", "model"], ["model", "data"]];
        return axisSets[random.Next(axisSets.Length)];
    }

    private static Step RandomStep(Random random, Mesh mesh)
    {
        string[] axes = RandomAxes(random, mesh);
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
        var kind = (FaultKind)random.Next(Enum.GetValues<FaultKind>().Length);
        bool someoneWaits = CollectiveReference.GroupMembers(mesh, device, steps[step].Axes).Length > 1;
        if (kind == FaultKind.Skip && (!someoneWaits || stats.ByKind[(int)FaultKind.Skip] >= MaxTimeoutRounds))
        {
            // A skipped collective only times out when someone else waits for it; timeouts are kept few, as they wait.
            kind = FaultKind.Throw;
        }

        if (kind == FaultKind.Mismatch)
        {
            // The step at the fault becomes one where the faulty device's call disagrees with its group's.
            string[] axes = RandomAxes(random, mesh);
            if (CollectiveReference.GroupMembers(mesh, device, axes).Length == 1)
            {
                kind = FaultKind.Throw;
            }
            else
            {
                steps[step] = new MismatchStep(random, mesh, axes, device, (Mismatch)random.Next(Enum.GetValues<Mismatch>().Length));
            }
        }

        Interlocked.Increment(ref stats.Faults);
        stats.ByKind[(int)kind]++;
        return new Fault(kind, device, step, new InvalidOperationException($"injected fault in round {round} on device {device} before step {step}"));
    }

    private sealed record Fault(FaultKind Kind, int Device, int Step, Exception Error)
    {
        public override string ToString() => $"{Kind} on device {Device} at step {Step}";
    }

    private sealed class RoundState : IDisposable
    {
        public CancellationTokenSource Cancellation { get; } = new();

        public Task? Disposal { get; set; }

        public void Dispose() => Cancellation.Dispose();
    }

    private sealed class Stats
    {
        public int Rounds;
        public int Faults;

        public int[] ByKind { get; } = new int[Enum.GetValues<FaultKind>().Length];

        public string Current { get; set; } = "not started";

        public string Describe() => string.Join(", ", Enum.GetValues<FaultKind>().Select(k => $"{ByKind[(int)k]} {k}"));
    }

    /// <summary>
    /// An all-reduce where one device's call differs from its group's in one respect. Every member of that group must get
    /// the same ArgumentException naming the axis and the difference, with its input and output unchanged.
    /// </summary>
    private sealed class MismatchStep : Step
    {
        private const float Sentinel = -12345f;
        private readonly int _faulty;
        private readonly Mismatch _mismatch;
        private readonly int _length;
        private readonly float[][] _inputs;
        private readonly Exception?[] _errors;
        private readonly bool[] _unchanged;

        public MismatchStep(Random random, Mesh mesh, string[] axes, int faulty, Mismatch mismatch)
            : base(Kind.AllReduce, axes)
        {
            _faulty = faulty;
            _mismatch = mismatch;
            _length = 2 * random.Next(2, 2000);
            _inputs = [.. Enumerable.Range(0, mesh.Size).Select(_ => CollectiveReference.MixedFloats(random, _length))];
            _errors = new Exception?[mesh.Size];
            _unchanged = new bool[mesh.Size];
        }

        public override void Run(SpmdContext context)
        {
            int k = context.DeviceIndex;
            AxisGroup group = context.GetAxisGroup(Axes);
            bool odd = k == _faulty;
            int length = odd && _mismatch == Mismatch.Count ? _length + 1 : _length;
            long[] shape = odd && _mismatch == Mismatch.Shape ? [2, _length / 2] : [length];
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(length == _length ? _inputs[k] : [.. _inputs[k], 1f], shape));
            using DeviceArray<float> y = DeviceArray.FromHost(context.Device, new HostArray<float>(Enumerable.Repeat(Sentinel, length).ToArray(), shape));
            using DeviceArray<double> d = DeviceArray.FromHost(context.Device, new HostArray<double>(new double[length], length));
            _errors[k] = Record.Exception(() =>
            {
                switch (odd ? _mismatch : (Mismatch)(-1))
                {
                    case Mismatch.Collective:
                        context.Barrier(group);
                        break;
                    case Mismatch.ElementType:
                        context.AllReduce(d, d, ReduceOp.Sum, group);
                        break;
                    case Mismatch.Op:
                        context.AllReduce(x, y, ReduceOp.Max, group);
                        break;
                    default:
                        context.AllReduce(x, y, ReduceOp.Sum, group);
                        break;
                }
            });

            float[] input = x.ToArray();
            _unchanged[k] = input.AsSpan(0, _length).SequenceEqual(_inputs[k]) && y.ToArray().All(static v => v == Sentinel) && d.ToArray().All(static v => v == 0);
        }

        public override void Check(Mesh mesh, string round)
        {
            int[] members = CollectiveReference.GroupMembers(mesh, _faulty, Axes);
            for (int k = 0; k < mesh.Size; k++)
            {
                if (members.Contains(k))
                {
                    var error = Assert.IsType<ArgumentException>(_errors[k]);
                    Assert.True(error.Message.Contains("disagree on the", StringComparison.Ordinal) && error.Message.Contains(AxesText, StringComparison.Ordinal), $"{round}, device {k}: {error.Message}");
                    Assert.True(_unchanged[k], $"{round}: device {k}'s buffers changed in a rejected call.");
                }
                else
                {
                    Assert.True(_errors[k] is null, $"{round}, device {k}: {_errors[k]}");
                }
            }
        }

        public override string ToString() => $"{_mismatch} mismatch by device {_faulty} of AllReduce Single[{_length}] over {AxesText}";
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
