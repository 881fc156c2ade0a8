using System.Globalization;

namespace Artifex.Mpi.Worker;

/// <summary>
/// The mpirun fault campaign: rounds of collectives over a data axis that spans every process (two devices each), where
/// about half the rounds make one process — or one device of it — ask for something else: another collective, element
/// type, count, shape, op or root. Every participant on every process must get the disagreement as an
/// <see cref="ArgumentException"/> naming the axis, with its buffers unchanged; the other rounds must be exact. Every
/// process draws the same plan from a shared seed, so they know which rounds disagree.
/// </summary>
internal sealed class FaultCampaign
{
    private const int Local = 2;
    private const int Rounds = 200;
    private const float Sentinel = -5f;
    private readonly List<string> _failures = [];
    private int _refused;

    private enum Kind
    {
        AllReduce,
        AllGather,
        Broadcast,
        PsumScatter,
    }

    private enum Variant
    {
        None,
        Collective,
        ElementType,
        Count,
        Shape,
        Op,
        Root,
    }

    public int Run()
    {
        using var provider = new MpiProvider(Local);
        int p = provider.ProcessIndex, n = provider.Devices.Count;
        var mesh = new Mesh(provider.Devices, ("data", n));
        var random = new Random(0xFA17);
        for (int round = 0; round < Rounds && _failures.Count == 0; round++)
        {
            var kind = (Kind)random.Next(4);
            int length = n * random.Next(1, 300);
            int root = random.Next(n);
            var variant = random.Next(2) == 0 ? Variant.None : (Variant)random.Next(1, 7);
            int faultyProcess = random.Next(provider.ProcessCount);
            bool wholeProcess = random.Next(2) == 0;
            RunRound(provider, mesh, round, kind, length, root, variant, device =>
                provider.Devices[device].ProcessIndex == faultyProcess && (wholeProcess || device % Local == 1));
        }

        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {p}/{provider.ProcessCount} {(_failures.Count == 0 ? $"CAMPAIGN OK {Rounds} rounds, {_refused} refused" : "FAILED: " + string.Join("; ", _failures))}"));
        if (p == 0 && _failures.Count == 0)
        {
            Console.Out.WriteLine("CAMPAIGN PASS");
        }

        return _failures.Count == 0 ? 0 : 1;
    }

    private static float Value(int device, int i) => (device * 1000) + i;

    private void RunRound(MpiProvider provider, Mesh mesh, int round, Kind kind, int length, int root, Variant variant, Func<int, bool> faulty)
    {
        int n = mesh.Size;
        var errors = new Exception?[n];
        var unchanged = new bool[n];
        var results = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            int d = context.DeviceIndex;
            AxisGroup data = context.GetAxisGroup("data");
            Variant mine = faulty(d) ? variant : Variant.None;
            int count = mine == Variant.Count ? length + n : length;
            long[] shape = mine == Variant.Shape ? [n, length / n] : [count];
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([.. Enumerable.Range(0, count).Select(i => Value(d, i))], shape));
            long outputLength = kind switch
            {
                Kind.AllGather => (long)n * count,
                Kind.PsumScatter => count / n,
                _ => count,
            };
            using DeviceArray<float> y = DeviceArray.FromHost(context.Device, new HostArray<float>(Enumerable.Repeat(Sentinel, (int)outputLength).ToArray(), outputLength));
            using DeviceArray<double> wrongType = DeviceArray.FromHost(context.Device, new HostArray<double>(new double[count], count));
            errors[d] = Record(() => Issue(context, data, mine, kind, x, y, wrongType, mine == Variant.Root ? (root + 1) % n : root));
            float[] input = x.ToArray();
            unchanged[d] = input.Select((v, i) => v == Value(d, i)).All(static ok => ok) && y.ToArray().All(static v => v == Sentinel) && wrongType.ToArray().All(static v => v == 0);
            results[d] = y.ToArray();
        });

        Check(provider, mesh, $"round {round} ({kind}, {variant}, length {length})", Disagrees(kind, variant), errors, unchanged, d => Expected(kind, n, length, root, d), results);
    }

    /// <summary>Whether a variant changes what the kind asks for (an op outside an all-reduce, or a root outside a broadcast, does not).</summary>
    private static bool Disagrees(Kind kind, Variant variant) => variant switch
    {
        Variant.None => false,
        Variant.Op => kind == Kind.AllReduce,
        Variant.Root => kind == Kind.Broadcast,
        _ => true,
    };

    private static void Issue(SpmdContext context, AxisGroup data, Variant mine, Kind kind, DeviceArray<float> x, DeviceArray<float> y, DeviceArray<double> wrongType, int root)
    {
        bool wrong = mine == Variant.ElementType;
        switch (mine == Variant.Collective ? (kind == Kind.AllReduce ? Kind.Broadcast : Kind.AllReduce) : kind)
        {
            case Kind.AllReduce when wrong:
                context.AllReduce(wrongType, wrongType, ReduceOp.Sum, data);
                break;
            case Kind.AllReduce:
                context.AllReduce(x, y.Length == x.Length ? y : x, mine == Variant.Op ? ReduceOp.Max : ReduceOp.Sum, data);
                break;
            case Kind.AllGather when wrong:
                using (DeviceArray<double> gathered = DeviceArray.Allocate<double>(context.Device, y.Length))
                {
                    context.AllGather(wrongType, gathered, data);
                }

                break;
            case Kind.AllGather:
                context.AllGather(x, y, data);
                break;
            case Kind.Broadcast:
                context.Broadcast(wrong ? wrongType : x, wrong ? wrongType : (y.Length == x.Length ? y : x), root, data);
                break;
            default:
                using (DeviceArray<double> scattered = DeviceArray.Allocate<double>(context.Device, y.Length))
                {
                    if (wrong)
                    {
                        context.ReduceScatter(wrongType, scattered, data);
                    }
                    else
                    {
                        context.ReduceScatter(x, y, data);
                    }
                }

                break;
        }
    }

    private void Check(MpiProvider provider, Mesh mesh, string round, bool disagrees, Exception?[] errors, bool[] unchanged, Func<int, float[]> expected, float[][] results)
    {
        foreach (int d in provider.LocalDevices.Select(device => mesh.Devices.IndexOf(device)))
        {
            string where = $"{round} device {d}";
            if (disagrees)
            {
                if (errors[d] is not ArgumentException refused || !refused.Message.Contains("disagree", StringComparison.Ordinal) || !refused.Message.Contains("'data'", StringComparison.Ordinal))
                {
                    _failures.Add($"{where}: expected a disagreement, got {errors[d]?.GetType().Name ?? "no error"}: {errors[d]?.Message}");
                }
                else if (!unchanged[d])
                {
                    _failures.Add($"{where}: a buffer changed in a refused call");
                }
                else
                {
                    _refused++;
                }
            }
            else if (errors[d] is not null)
            {
                _failures.Add($"{where}: {errors[d]!.GetType().Name}: {errors[d]!.Message}");
            }
            else if (!results[d].SequenceEqual(expected(d)))
            {
                _failures.Add($"{where}: wrong result");
            }
        }
    }

    private static float[] Expected(Kind kind, int n, int length, int root, int device) => kind switch
    {
        Kind.AllReduce => [.. Enumerable.Range(0, length).Select(i => Enumerable.Range(0, n).Sum(k => Value(k, i)))],
        Kind.AllGather => [.. Enumerable.Range(0, n).SelectMany(k => Enumerable.Range(0, length).Select(i => Value(k, i)))],
        Kind.Broadcast => [.. Enumerable.Range(0, length).Select(i => Value(root, i))],
        _ => [.. Enumerable.Range(device * (length / n), length / n).Select(i => Enumerable.Range(0, n).Sum(k => Value(k, i)))],
    };

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception error)
        {
            // Recorded, and checked by the caller against what the round expects.
            return error;
        }
    }
}
