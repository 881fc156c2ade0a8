using System.Runtime.CompilerServices;
using Artifex.Cpu.Tests.DependencyInjection;
using Artifex.Runtime;

namespace Artifex.Cpu.Tests;

/// <summary>
/// A leak shows up while the program runs, not at shutdown: a buffer nobody disposed is counted, logged and freed once
/// the garbage collector finds it; a provider nobody disposed lets its worker threads go when it is collected.
/// </summary>
[Collection(ProcessState.Name)]
public sealed class LeakVisibilityTests
{
    [Fact]
    public void UndisposedBuffers_AreCountedLoggedAndFreed_WhenCollected()
    {
        var logger = new CapturingLogger<CpuProvider>();
        using var provider = new CpuProvider(new CpuProviderOptions { DeviceCount = 1, CachedBytesLimit = 0 }, logger);
        using DeviceArray<float> kept = DeviceArray.Allocate<float>(provider.Devices[0], 16);

        AllocateAndDrop(provider, count: 3);
        Collect();

        Assert.Equal(3, provider.LeakedBufferCount);
        Assert.Equal(1, provider.LiveBufferCount);
        Assert.Equal(16 * sizeof(float), provider.LiveBytes);
        string[] leaks = [.. logger.Messages.Where(m => m.Contains("was never disposed", StringComparison.Ordinal))];
        Assert.Equal(3, leaks.Length);
        Assert.All(leaks, m => Assert.Contains("DeviceBuffer(cpu:0, Single[262144])", m, StringComparison.Ordinal));
        Assert.All(leaks, m => Assert.Contains(DeviceProvider.TraceLeaksVariable, m, StringComparison.Ordinal));

        // The next allocation frees the leaked memory on this thread; the kept buffer is untouched.
        using DeviceArray<float> next = DeviceArray.Allocate<float>(provider.Devices[0], 4);
        Assert.Equal(2, provider.LiveBufferCount);
    }

    [Fact]
    public void UndisposedProviders_StopTheirWorkerThreads_WhenCollected()
    {
        Collect();
        int before = SpmdWorkerPool.LiveThreads;

        WeakReference[] providers = [.. Enumerable.Range(0, 10).Select(_ => StartAndDrop())];
        Assert.True(SpmdWorkerPool.LiveThreads >= before + 20, $"{SpmdWorkerPool.LiveThreads} worker threads, {before} before.");

        // A hang guard, not a timing assertion: threads end soon after their provider's finalizer has run.
        DateTime giveUp = DateTime.UtcNow.AddSeconds(60);
        while ((providers.Any(static p => p.IsAlive) || SpmdWorkerPool.LiveThreads > before) && DateTime.UtcNow < giveUp)
        {
            Collect();
            Thread.Sleep(10);
        }

        Assert.All(providers, p => Assert.False(p.IsAlive, "An undisposed provider stayed reachable: something roots it (its threads?)."));
        Assert.Equal(before, SpmdWorkerPool.LiveThreads);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AllocateAndDrop(CpuProvider provider, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _ = DeviceArray.Allocate<float>(provider.Devices[0], 1 << 18);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference StartAndDrop()
    {
        var provider = new CpuProvider(2);
        provider.RunSpmd(new Mesh(provider.Devices, ("data", 2)), _ => Collectives.Barrier("data"));
        return new WeakReference(provider);
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
