using System.Runtime.InteropServices;

namespace Artifex.Runtime;

/// <summary>
/// Pins the runtime's own threads to cores on Linux (device k to core k mod P), as OpenMP's
/// <c>OMP_PROC_BIND=close</c> does for the native reference: a participant then keeps its core and its cache, and two
/// participants never start out on one core while the other core idles. Set <c>ARTIFEX_CPU_PIN=0</c> to turn it off.
/// </summary>
public static partial class ThreadAffinity
{
    /// <summary>The environment variable that turns pinning off when set to <c>0</c>.</summary>
    public const string Variable = "ARTIFEX_CPU_PIN";

    private static readonly bool s_enabled =
        OperatingSystem.IsLinux() && !string.Equals(Environment.GetEnvironmentVariable(Variable), "0", StringComparison.Ordinal);

    /// <summary>Gets whether threads are pinned (Linux, and not turned off).</summary>
    public static bool IsEnabled => s_enabled;

    /// <summary>Pins the calling thread to one core; returns false (and changes nothing) when pinning is off or fails.</summary>
    /// <param name="index">The thread's index; it goes to core <c>index mod ProcessorCount</c>.</param>
    /// <returns>True when the thread was pinned.</returns>
    public static unsafe bool TryPinCurrentThread(int index)
    {
        if (!s_enabled)
        {
            return false;
        }

        int core = index % Environment.ProcessorCount;
        Span<ulong> mask = stackalloc ulong[16];
        mask.Clear();
        if (core >= mask.Length * 64)
        {
            return false;
        }

        mask[core / 64] = 1UL << (core % 64);
        fixed (ulong* bits = mask)
        {
            // A failure (e.g. a cgroup that excludes the core) leaves the thread unpinned, which is only slower.
            return SchedSetAffinity(0, (nuint)(mask.Length * sizeof(ulong)), bits) == 0;
        }
    }

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    private static unsafe partial int SchedSetAffinity(int pid, nuint cpuSetSize, ulong* mask);
}
