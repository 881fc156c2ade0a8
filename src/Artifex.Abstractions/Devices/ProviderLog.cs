using Microsoft.Extensions.Logging;

namespace Artifex;

/// <summary>Log messages of the provider base class (source-generated, allocation-free when disabled).</summary>
internal static partial class ProviderLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "The {Platform} provider freed {Count} device buffers ({Bytes} bytes) that were still live when it was disposed.")]
    public static partial void FreedLiveBuffers(ILogger logger, string platform, int count, long bytes);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "{Buffer} was never disposed: the garbage collector found it unreferenced, and its memory is freed on the provider's next allocation. Dispose device buffers (a using declaration) when done with them. Allocated at: {Site}")]
    public static partial void BufferLeaked(ILogger logger, string buffer, string site);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Disposing the {Platform} provider waits for {Count} running regions or collectives, canceled {Seconds} s ago or more: a participant is still running user code that does not watch its cancellation token.")]
    public static partial void DisposeWaiting(ILogger logger, string platform, long count, double seconds);
}
