using Microsoft.Extensions.Logging;

namespace Artifex.Cpu.Tests.DependencyInjection;

/// <summary>Keeps every formatted log message, to check what a provider logs.</summary>
public sealed class CapturingLogger<T> : ILogger<T>
{
    public IList<string> Messages { get; } = new List<string>();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Messages.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
