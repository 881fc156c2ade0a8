using Microsoft.Extensions.Logging;

namespace Artifex.Cpu;

/// <summary>Log messages of the CPU provider (source-generated).</summary>
internal static partial class CpuLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "CPU provider started: {Devices} emulated devices, {SimdBits}-bit SIMD, {Cores} cores, worker threads pinned: {Pinned}.")]
    public static partial void Started(ILogger logger, int devices, int simdBits, int cores, bool pinned);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "A collective timed out on {Mesh}: {Reason}")]
    public static partial void CollectiveTimedOut(ILogger logger, Mesh mesh, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "An SPMD region on {Mesh} was aborted: a participant threw {ExceptionType}: {Reason}")]
    public static partial void RegionAborted(ILogger logger, Mesh mesh, string exceptionType, string reason);
}
