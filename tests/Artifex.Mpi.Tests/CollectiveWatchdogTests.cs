using System.Diagnostics;

namespace Artifex.Mpi.Tests;

/// <summary>The watchdog's timing and reporting, with a handler that records instead of aborting. No MPI needed.</summary>
public sealed class CollectiveWatchdogTests
{
    [Fact]
    public void CollectiveThatNeverCompletes_IsReported_NamingIt()
    {
        using var reported = new BlockingCollectionSink();
        using var watchdog = new CollectiveWatchdog(TimeSpan.FromMilliseconds(100), reported.Add);

        using MpiCollectiveScope scope = watchdog.Enter("all_reduce over axis 'data'");

        Assert.True(scope.IsGuarded);
        string? message = reported.Take(TimeSpan.FromSeconds(10));
        Assert.Equal("all_reduce over axis 'data' did not complete within 0.1 s: a rank never joined; aborting the job", message);
        Assert.True(watchdog.HasExpired);
    }

    [Fact]
    public void CollectivesThatComplete_AreNotReported()
    {
        using var reported = new BlockingCollectionSink();
        // Long enough that a preempted scope on a loaded machine is not a hang; short enough to wait past it.
        using var watchdog = new CollectiveWatchdog(TimeSpan.FromSeconds(1), reported.Add);

        for (int i = 0; i < 1000; i++)
        {
            using MpiCollectiveScope scope = watchdog.Enter("barrier over MPI_COMM_WORLD");
        }

        Assert.Equal(0, watchdog.InFlight);
        Assert.Null(reported.Take(TimeSpan.FromMilliseconds(1500)));
    }

    [Fact]
    public void Scan_NamesTheOldestExpiredCollective()
    {
        using var watchdog = new CollectiveWatchdog(TimeSpan.FromHours(1), static _ => { });
        using MpiCollectiveScope outer = watchdog.Enter("all_reduce over axis 'data'");
        Thread.Sleep(20);
        using MpiCollectiveScope inner = watchdog.Enter("all_reduce over MPI_COMM_WORLD");

        long now = Stopwatch.GetTimestamp();
        long later = now + (2 * 3600 * Stopwatch.Frequency);

        Assert.Null(watchdog.Scan(now));
        Assert.StartsWith("all_reduce over axis 'data' did not complete within 3600 s", watchdog.Scan(later), StringComparison.Ordinal);
        outer.Dispose();
        Assert.StartsWith("all_reduce over MPI_COMM_WORLD did not complete", watchdog.Scan(later), StringComparison.Ordinal);
        inner.Dispose();
        Assert.Null(watchdog.Scan(later));
    }

    [Fact]
    public void Disabled_GuardsNothing()
    {
        using var watchdog = new CollectiveWatchdog(TimeSpan.Zero, static _ => throw new InvalidOperationException("must not fire"));

        using MpiCollectiveScope scope = watchdog.Enter("barrier");

        Assert.False(scope.IsGuarded);
        Assert.Equal(default, scope);
        Assert.Equal(0, watchdog.InFlight);
        watchdog.Timeout = Timeout.InfiniteTimeSpan;
        Assert.False(watchdog.Enter("barrier").IsGuarded);
    }

    [Fact]
    public void StaleCopyOfADisposedScope_DoesNotReleaseTheSlotsNextOwner()
    {
        using var watchdog = new CollectiveWatchdog(TimeSpan.FromHours(1), static _ => { });
        MpiCollectiveScope first = watchdog.Enter("first");
        MpiCollectiveScope copy = first;
        first.Dispose();

        var others = Enumerable.Range(0, CollectiveWatchdog.Capacity).Select(i => watchdog.Enter($"other {i}")).ToList();
        copy.Dispose();

        Assert.Equal(CollectiveWatchdog.Capacity, watchdog.InFlight);
        Assert.False(watchdog.Enter("one too many").IsGuarded);
        others.ForEach(static s => s.Dispose());
        Assert.Equal(0, watchdog.InFlight);
    }

    [Fact]
    public void NegativeTimeout_IsRejected()
    {
        using var watchdog = new CollectiveWatchdog(TimeSpan.FromSeconds(1), static _ => { });

        Assert.Throws<ArgumentOutOfRangeException>(() => watchdog.Timeout = TimeSpan.FromSeconds(-1));
    }

    [Theory]
    [InlineData(null, 300.0)]
    [InlineData("", 300.0)]
    [InlineData("2", 2.0)]
    [InlineData("2.5", 2.5)]
    [InlineData(" 60 ", 60.0)]
    [InlineData("0", 0.0)]
    public void ParseTimeout_ReadsSeconds(string? text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), MpiWatchdog.ParseTimeout(text));

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e30")]
    [InlineData("2,5")]
    public void ParseTimeout_RejectsMalformedValues_NamingTheVariable(string text)
    {
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => MpiWatchdog.ParseTimeout(text));

        Assert.Contains(MpiWatchdog.TimeoutVariable, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Collects the watchdog's reports across threads.</summary>
    private sealed class BlockingCollectionSink : IDisposable
    {
        private readonly System.Collections.Concurrent.BlockingCollection<string> _messages = [];

        public void Add(string message) => _messages.Add(message);

        public string? Take(TimeSpan timeout) => _messages.TryTake(out string? message, timeout) ? message : null;

        public void Dispose() => _messages.Dispose();
    }
}
