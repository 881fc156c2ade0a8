using Microsoft.Extensions.Logging;

namespace Artifex.Cuda.Distributed;

/// <summary>The log messages of the <see cref="TcpStore"/> server.</summary>
internal static partial class TcpStoreLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "TcpStore at {Address}: refused a connection from {Peer}: {Reason}")]
    public static partial void Refused(ILogger logger, string address, string peer, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "TcpStore at {Address}: dropped the connection from {Peer}: {Reason}")]
    public static partial void Dropped(ILogger logger, string address, string peer, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "TcpStore at {Address}: lost the connection from {Peer}: {Reason}")]
    public static partial void Lost(ILogger logger, string address, string peer, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "TcpStore at {Address}: accepting a connection failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Error, Message = "TcpStore at {Address}: serving {Peer} failed unexpectedly")]
    public static partial void Failed(ILogger logger, string address, string peer, Exception exception);
}
