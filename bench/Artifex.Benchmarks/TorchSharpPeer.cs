using System.Globalization;

namespace Artifex.Benchmarks;

/// <summary>
/// Builds the TorchSharp-cpu MLP peer of <c>bench/peers/torchsharp</c> in a temporary copy (outside the repository, so
/// its analyzers and central package versions do not apply; NuGet must reach TorchSharp-cpu 0.107.0) and runs its
/// <c>steps</c> mode: median step time of the same MLP with Adam on Fashion-MNIST.
/// </summary>
internal static class TorchSharpPeer
{
    /// <summary>The GLIBC malloc setting of the peer's "tuned" variant (no mmap/munmap of libtorch's per-step buffers).</summary>
    public const string TunedMalloc = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824";

    private static readonly string[] s_project = ["torchsharp", "TorchSharpPeer.csproj"];

    /// <summary>Builds the peer once; returns the path of its dll, or null with the reason logged.</summary>
    public static string? Build(TextWriter log)
    {
        string? project = ExternalProcess.FindPeer(s_project);
        if (project is null)
        {
            log.WriteLine($"# {ExternalProcess.PeerName(s_project)} not found (run from a clone of the repository); TorchSharp skipped");
            return null;
        }

        string copy = Path.Combine(Path.GetTempPath(), "artifex-peer-torchsharp");
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(Path.GetDirectoryName(project)!))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)), overwrite: true);
        }

        if (!ExternalProcess.TryRun("dotnet", ["build", copy, "-c", "Release", "-nologo", "-v", "q"], null, log, out _))
        {
            log.WriteLine("# the TorchSharp peer did not build; skipped (NuGet must reach TorchSharp-cpu 0.107.0)");
            return null;
        }

        string output = Path.Combine(copy, "bin", "Release", "net10.0");

        // The peer's fix for Debian 12's libstdc++ (see the script's header): one version need made weak, in the build copy.
        string native = Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (File.Exists(native) && !ExternalProcess.TryRun("python3", [Path.Combine(copy, "weaken_glibcxx.py"), native], null, log, out _))
        {
            log.WriteLine("# weaken_glibcxx.py did not run (apt-get install python3); on a libstdc++ older than GCC 13's the peer will not load");
        }

        return Path.Combine(output, "TorchSharpPeer.dll");
    }

    /// <summary>The median step time in ms at a batch size with T threads, or NaN.</summary>
    public static double MedianStepMs(string dll, int threads, int batch, int steps, bool tuned, TextWriter log)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal) { ["GLIBC_TUNABLES"] = tuned ? TunedMalloc : null };
        string[] arguments = [dll, "steps", threads.ToString(CultureInfo.InvariantCulture), batch.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture)];
        if (!ExternalProcess.TryRun("dotnet", arguments, environment, log, out string output))
        {
            return double.NaN;
        }

        foreach (string line in output.Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 4 && int.TryParse(f[0], CultureInfo.InvariantCulture, out int t) && t == threads
                && int.TryParse(f[1], CultureInfo.InvariantCulture, out int b) && b == batch
                && double.TryParse(f[3], CultureInfo.InvariantCulture, out double median))
            {
                return median;
            }
        }

        log.WriteLine($"# TorchSharp peer printed no step line: {output.Trim()}");
        return double.NaN;
    }
}
