using Microsoft.Extensions.Logging;

namespace Artifex.Cuda;

/// <summary>The CUDA provider's log messages.</summary>
internal static partial class CudaLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "CUDA provider started with {DeviceCount} GPU(s): {Names}; {Probe}")]
    public static partial void Started(ILogger logger, int deviceCount, string names, string probe);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "SPMD region over {Mesh} aborted: {ErrorType}: {Message}")]
    public static partial void RegionAborted(ILogger logger, Mesh mesh, string errorType, string message);
}
