using Microsoft.Extensions.Logging;

namespace Artifex.Cuda;

/// <summary>The CUDA provider's log messages.</summary>
internal static partial class CudaLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "CUDA provider started with {DeviceCount} GPU(s): {Names}; {Probe}")]
    public static partial void Started(ILogger logger, int deviceCount, string names, string probe);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Freeing {Buffer}: its GPU's stream had failed ({Error}); the memory was freed anyway")]
    public static partial void ReleaseFailed(ILogger logger, string buffer, string error);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "SPMD region over {Mesh} aborted: {ErrorType}: {Message}")]
    public static partial void RegionAborted(ILogger logger, Mesh mesh, string errorType, string message);
}
