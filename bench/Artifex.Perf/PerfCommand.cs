using System.CommandLine;
using System.Globalization;

namespace Artifex.Perf;

/// <summary>One subcommand per collective, with nccl-tests' option names where they exist.</summary>
internal static class PerfCommand
{
    /// <summary>The most sizes one sweep measures: more means a step factor so close to 1 that the run would not end in useful time.</summary>
    public const int MaxSizes = 64;

    public static Command Create(CollectiveKind kind, TextWriter output, TextWriter error)
    {
        var provider = new Option<string>("--provider")
        {
            Description = "Provider: cpu (emulated devices), cuda (one device per GPU, collectives on NCCL) or mpi (K emulated devices per process; run under mpirun, collectives across processes on MPI).",
            DefaultValueFactory = _ => "cpu",
        };
        var devices = new Option<int?>("--devices", "-g") { Description = "Number of devices N (default 2); with --provider mpi, devices per process K (default 1), and the mesh spans all P·K." };
        var minBytes = new Option<string>("--minbytes", "-b") { Description = "Smallest size, with K/M/G suffixes.", DefaultValueFactory = _ => "4K" };
        var maxBytes = new Option<string>("--maxbytes", "-e") { Description = "Largest size, with K/M/G suffixes.", DefaultValueFactory = _ => "16M" };
        var factor = new Option<double>("--stepfactor", "-f") { Description = "Multiply the size by this factor each step.", DefaultValueFactory = _ => 4 };
        var iterations = new Option<int>("--iters", "-n") { Description = "Timed iterations per size.", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup_iters", "-w") { Description = "Warm-up iterations per size.", DefaultValueFactory = _ => 5 };
        var op = new Option<string>("--op", "-o") { Description = "Reduction: sum, mean, max, min (allreduce).", DefaultValueFactory = _ => "sum" };
        var type = new Option<string>("--datatype", "-d") { Description = "Element type: float, double, int.", DefaultValueFactory = _ => "float" };
        var form = new Option<string>("--form") { Description = "region (inside an SPMD region) or host (single-controller; allreduce only, in place only).", DefaultValueFactory = _ => "region" };
        var determinism = new Option<string>("--determinism") { Description = "rankordered (default) or reproducible (PR3 v2; allreduce and reducescatter, float, region form).", DefaultValueFactory = _ => "rankordered" };
        var outputFile = new Option<string?>("--output") { Description = "Also write the rows to a .json or .csv file." };
        var warmupSeconds = new Option<double>("--warmup_seconds") { Description = "Touch fresh buffers this long before timing each size (fresh memory is slow on some VMs).", DefaultValueFactory = _ => 0.2 };
        var compareMpi = new Option<bool>("--compare-mpi") { Description = "Run OpenMPI's MPI_Allreduce (in place) with the same N and sizes and print its ratio to our in-place time (allreduce, float, sum)." };
        var command = new Command(Report.Name(kind), $"Measure {Report.Name(kind)}.")
        {
            provider, devices, minBytes, maxBytes, factor, iterations, warmup, op, type, form, determinism, outputFile, compareMpi, warmupSeconds,
        };
        command.SetAction(result =>
        {
            string providerName = result.GetValue(provider)!;
            int deviceCount = result.GetValue(devices) ?? (string.Equals(providerName, "mpi", StringComparison.Ordinal) ? 1 : 2);
            string? problem = Validate(kind, providerName, deviceCount, result.GetValue(minBytes)!, result.GetValue(maxBytes)!,
                result.GetValue(factor), result.GetValue(iterations), result.GetValue(warmup), result.GetValue(op)!, result.GetValue(type)!, result.GetValue(form)!,
                out long min, out long max, out ReduceOp reduceOp);
            string mode = result.GetValue(determinism)!;
            problem ??= mode switch
            {
                "rankordered" => null,
                "reproducible" when kind is not (CollectiveKind.AllReduce or CollectiveKind.ReduceScatter) => "--determinism reproducible applies to allreduce and reducescatter.",
                "reproducible" when !string.Equals(result.GetValue(type), "float", StringComparison.Ordinal) => "--determinism reproducible needs --datatype float (int is exact already; double is not covered by the reproducible scheme).",
                "reproducible" when string.Equals(result.GetValue(form), "host", StringComparison.Ordinal) => "--determinism reproducible runs in the region form only.",
                "reproducible" => null,
                _ => $"--determinism must be rankordered or reproducible, not '{mode}'.",
            };
            if (problem is null && result.GetValue(compareMpi) && string.Equals(providerName, "mpi", StringComparison.Ordinal))
            {
                // The peer is launched by its own mpirun, which cannot run inside this job's ranks.
                problem = "--compare-mpi runs the C peer under its own mpirun and is for --provider cpu; with --provider mpi run the peer beside this job (docs/PERFORMANCE.md, section 'The MPI provider').";
            }

            if (problem is not null)
            {
                return PerfApp.Refuse(error, problem);
            }

            var settings = new PerfSettings(kind, providerName, deviceCount, min, max, result.GetValue(factor),
                result.GetValue(iterations), result.GetValue(warmup), reduceOp, result.GetValue(type)!, string.Equals(result.GetValue(form), "host", StringComparison.Ordinal),
                result.GetValue(outputFile), result.GetValue(compareMpi), Math.Max(0, result.GetValue(warmupSeconds)),
                string.Equals(mode, "reproducible", StringComparison.Ordinal) ? Determinism.Reproducible : Determinism.RankOrdered);
            return PerfRun.Execute(settings, output);
        });
        return command;
    }

    /// <summary>Checks every option before anything is measured; returns one line naming the option and the value, or null.</summary>
    internal static string? Validate(
        CollectiveKind kind, string provider, int devices, string minText, string maxText, double factor, int iterations, int warmup,
        string opText, string type, string form, out long min, out long max, out ReduceOp op)
    {
        op = ReduceOp.Sum;
        string? sweep = ByteSize.TryParseRange(minText, maxText, out min, out max) ?? CheckStepFactor(factor, min, max);
        if (sweep is not null)
        {
            return sweep;
        }

        string? problem = (provider, devices, iterations, warmup, type, form) switch
        {
            (not ("cpu" or "cuda" or "mpi"), _, _, _, _, _) => $"--provider must be cpu, cuda or mpi, not '{provider}'.",
            ("cuda", _, _, _, _, _) when Cuda.CudaServiceCollectionExtensions.UnavailableReason is { } reason => $"--provider cuda: no usable GPU here: {reason}",
            ("cuda", _, _, _, _, _) when devices > Cuda.CudaProbe.Current.DeviceCount => $"--provider cuda --devices {devices}: this machine has {Cuda.CudaProbe.Current.DeviceCount} GPU(s).",
            ("mpi", _, _, _, _, _) when !Mpi.MpiRuntime.IsAvailable => $"--provider mpi: OpenMPI is not available here: {Mpi.MpiRuntime.UnavailableReason} (apt-get install openmpi-bin)",
            (_, < 1, _, _, _, _) => $"--devices must be at least 1, not {devices}.",
            (_, _, < 1, _, _, _) => $"--iters must be at least 1, not {iterations}.",
            (_, _, _, < 0, _, _) => $"--warmup_iters must not be negative, not {warmup}.",
            (_, _, _, _, not ("float" or "double" or "int"), _) => $"--datatype must be float, double or int, not '{type}'.",
            (_, _, _, _, _, not ("region" or "host")) => $"--form must be region or host, not '{form}'.",
            _ => null,
        };
        if (problem is not null)
        {
            return problem;
        }

        if (string.Equals(form, "host", StringComparison.Ordinal) && kind != CollectiveKind.AllReduce)
        {
            return "--form host supports allreduce only (the host-issued collective is AllReduceShards).";
        }

        op = opText switch
        {
            "sum" => ReduceOp.Sum,
            "mean" => ReduceOp.Mean,
            "max" => ReduceOp.Max,
            "min" => ReduceOp.Min,
            _ => (ReduceOp)(-1),
        };
        if (op is < ReduceOp.Mean or > ReduceOp.Min)
        {
            return $"--op must be sum, mean, max or min, not '{opText}'.";
        }

        if (op == ReduceOp.Mean && string.Equals(type, "int", StringComparison.Ordinal))
        {
            return "--op mean needs a floating-point --datatype (the mean of integers is not an integer).";
        }

        return null;
    }

    /// <summary>A finite factor above 1 that reaches <paramref name="max"/> from <paramref name="min"/> in at most <see cref="MaxSizes"/> sizes.</summary>
    private static string? CheckStepFactor(double factor, long min, long max)
    {
        if (!double.IsFinite(factor) || factor <= 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"--stepfactor must be a finite number above 1, not {factor}.");
        }

        double sizes = Math.Floor(Math.Log((double)max / min) / Math.Log(factor)) + 1;
        return sizes > MaxSizes
            ? string.Create(CultureInfo.InvariantCulture, $"--stepfactor {factor} makes {sizes:N0} sizes from {ByteSize.Format(min)} to {ByteSize.Format(max)}; at most {MaxSizes} are measured per run: raise --stepfactor or narrow the sizes.")
            : null;
    }
}
