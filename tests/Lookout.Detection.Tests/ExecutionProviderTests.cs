using Lookout.Detection.Models;
using Lookout.Detection.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Lookout.Detection.Tests;

public sealed class ExecutionProviderTests
{
    [Fact]
    public void Unavailable_cuda_falls_back_to_cpu_with_one_clear_log_line_and_reports_cpu()
    {
        var logger = new ListLogger();
        using var model = DetectionModel.Load("yolox-nano", "yolox", TestAssets.PathOf("yolox_nano.onnx"),
            new InferenceSettings { ExecutionProvider = "cuda", IntraOpThreads = 1 }, logger: logger);

        // This build carries the CPU package: CUDA cannot start, the model still loads and says where it runs.
        Assert.Equal("cpu", model.ExecutionProvider);
        var warning = Assert.Single(logger.Lines, l => l.Level == LogLevel.Warning);
        Assert.Contains("CUDA", warning.Message);
        Assert.Contains("CPU", warning.Message);
        Assert.Contains(new Detector(model).Detect(TestAssets.Bytes("dog.jpg")).Detections, d => d.Label == "dog");
    }

    [Fact]
    public void Unknown_provider_is_refused() =>
        Assert.Throws<ArgumentException>(() => DetectionModel.Load("x", "yolox", TestAssets.PathOf("yolox_nano.onnx"),
            new InferenceSettings { ExecutionProvider = "tpu" }));

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }
}
