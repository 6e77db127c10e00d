using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Lookout.Server.Tests;

/// <summary>Keeps every log line with its structured values.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public sealed record Line(string Category, string Message, IReadOnlyDictionary<string, object?> Values);

    private readonly ConcurrentQueue<Line> _lines = new();
    public IReadOnlyList<Line> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);
    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<Line> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(p => p.Key, p => p.Value)
                : new Dictionary<string, object?>();
            lines.Enqueue(new Line(category, formatter(state, exception), values));
        }
    }
}
