using System.Collections.Concurrent;
using Lookout.Detection.Imaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Detection.Models;

/// <summary>How ONNX Runtime sessions are created.</summary>
public sealed record InferenceSettings
{
    /// <summary>"cpu" (default) or "cuda". An unavailable provider falls back to CPU with one log line.</summary>
    public string ExecutionProvider { get; init; } = "cpu";
    public int CudaDeviceId { get; init; }

    /// <summary>Threads one inference may use; 0 means one per core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Threads for an inference that starts while another is already running, or null for one session only. A
    /// lone request is fastest with every core; under load, inferences side by side with one thread each get more
    /// done than each fighting for all cores. With this set, the model keeps a second, narrower CPU session.
    /// </summary>
    public int? ConcurrentIntraOpThreads { get; init; }

    /// <summary>
    /// Whether idle intra-op threads spin. Spinning shaves milliseconds off a lone request (YOLOX-Nano has hundreds of
    /// small parallel ops, each of which otherwise wakes its workers through the OS) but burns the cores that
    /// concurrent requests need. With <see cref="ConcurrentIntraOpThreads"/> set, the concurrent session never spins
    /// and the lone-request session follows this setting.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;
}

/// <summary>
/// One loaded model: its ONNX Runtime session (created once, shared by all callers: Run is thread-safe), its
/// input size, head, preprocessing and class names, and a pool of pinned input/output buffers so a request
/// allocates no tensors.
/// </summary>
public sealed class DetectionModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly InferenceSession? _concurrentSession;
    private int _busy;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly long[] _inputShape;
    private readonly long[] _outputShape;
    private readonly ConcurrentBag<InferenceBuffers> _buffers = new();

    private DetectionModel(string name, string? family, InferenceSession session, InferenceSession? concurrentSession, string provider,
        IReadOnlyList<string>? names, ILogger logger)
    {
        Name = name;
        _session = session;
        _concurrentSession = concurrentSession;
        ExecutionProvider = provider;

        var input = session.InputMetadata.Count == 1
            ? session.InputMetadata.First()
            : throw new UnsupportedModelException($"Model '{name}' has {session.InputMetadata.Count} inputs; a detector has one image input.");
        _inputName = input.Key;
        var dims = input.Value.Dimensions;
        if (dims.Length != 4 || (dims[1] != 3 && dims[1] > 0))
            throw new UnsupportedModelException($"Model '{name}' input '{input.Key}' has shape [{string.Join(",", dims)}]; expected [1,3,H,W].");
        var metadata = session.ModelMetadata.CustomMetadataMap;
        (InputHeight, InputWidth) = ResolveInputSize(dims, metadata);
        _inputShape = [1, 3, InputHeight, InputWidth];

        // Prefer the output named like a detector's ("output", "output0"); extra outputs are for debugging.
        _outputName = session.OutputMetadata.Keys.FirstOrDefault(k => k is "output" or "output0") ?? session.OutputMetadata.Keys.First();

        // The file's own names (Ultralytics metadata) first, then names given beside it (a .names file), then COCO.
        names = ClassNames.ParseUltralyticsNames(metadata.GetValueOrDefault("names")) ?? names;
        family ??= metadata.GetValueOrDefault(FamilyMetadataKey);
        // Learn the output shape by running once: dynamic exports only tell it at run time, and the first run
        // warms up ONNX Runtime so the first real request is not the slow one.
        _outputShape = WarmUp();
        Head = OutputLayout.Recognise(_outputShape, InputWidth, InputHeight, family, names?.Count);
        // A file given without a family: the layout tells YOLOX (raw grid) from Ultralytics exports.
        Family = family ?? (Head is YoloxHead ? "yolox" : "ultralytics");
        Preprocess = PreprocessFor(Family);
        Names = ClassNames.Fit(names, Head.ClassCount);
        Quantization = Lookout.Detection.Quantization.QuantizationFacts.Read(metadata);
        logger.LogInformation("Loaded model {Model} ({Family}, {Layout}, input {Width}×{Height}, {Classes} classes, {Precision}) on {Provider}",
            Name, Family, Head.Layout, InputWidth, InputHeight, Names.Count,
            Quantization is null ? "float" : $"int8 from {Quantization.Source}", ExecutionProvider);
    }

    /// <summary>ONNX metadata key naming the family a model needs ("yolox", "ultralytics", "darknet"), for files loaded by path.</summary>
    public const string FamilyMetadataKey = "lookout_family";

    public string Name { get; }
    public string Family { get; }
    public string ExecutionProvider { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }
    public PreprocessSpec Preprocess { get; }
    public ModelHead Head { get; }
    public IReadOnlyList<string> Names { get; }

    /// <summary>How the file was quantised, when <c>lookout models quantize</c> made it (null for a float model).</summary>
    public Lookout.Detection.Quantization.QuantizationFacts? Quantization { get; }

    /// <summary>The session itself, for benchmarks that time a bare Run beside the whole pipeline.</summary>
    public InferenceSession Session => _session;
    public string InputName => _inputName;
    public string OutputName => _outputName;

    /// <param name="family">"yolox", "ultralytics", "darknet", or null to recognise it from the output layout.</param>
    public static DetectionModel Load(string name, string? family, string onnxPath, InferenceSettings? settings = null,
        IReadOnlyList<string>? names = null, ILogger? logger = null) =>
        Create(name, family, options => new InferenceSession(onnxPath, options), settings, names, logger);

    public static DetectionModel Load(string name, string? family, byte[] onnxModel, InferenceSettings? settings = null,
        IReadOnlyList<string>? names = null, ILogger? logger = null) =>
        Create(name, family, options => new InferenceSession(onnxModel, options), settings, names, logger);

    public static PreprocessSpec PreprocessFor(string family) => family.ToLowerInvariant() switch
    {
        "yolox" => PreprocessSpec.Yolox,
        "darknet" => PreprocessSpec.Darknet,
        _ => PreprocessSpec.Ultralytics,
    };

    private static DetectionModel Create(string name, string? family, Func<SessionOptions, InferenceSession> open,
        InferenceSettings? settings, IReadOnlyList<string>? names, ILogger? logger)
    {
        settings ??= new InferenceSettings();
        logger ??= NullLogger.Instance;
        var (session, provider) = OpenSession(open, settings, logger);
        InferenceSession? concurrent = null;
        try
        {
            int wide = settings.IntraOpThreads > 0 ? settings.IntraOpThreads : Environment.ProcessorCount;
            if (provider == "cpu" && settings.ConcurrentIntraOpThreads is > 0 and var narrow && narrow != wide)
            {
                using var options = BaseOptions(settings with { IntraOpThreads = narrow, AllowSpinning = false });
                concurrent = open(options);
            }
            return new DetectionModel(name, family, session, concurrent, provider, names, logger);
        }
        catch
        {
            concurrent?.Dispose();
            session.Dispose();
            throw;
        }
    }

    private static (InferenceSession, string) OpenSession(Func<SessionOptions, InferenceSession> open, InferenceSettings settings, ILogger logger)
    {
        var requested = settings.ExecutionProvider.Trim().ToLowerInvariant();
        if (requested is not ("cpu" or "cuda"))
            throw new ArgumentException($"Unknown execution provider '{settings.ExecutionProvider}': use 'cpu' or 'cuda'.");

        if (requested == "cuda")
        {
            var available = OrtEnv.Instance().GetAvailableProviders();
            if (!available.Contains("CUDAExecutionProvider"))
            {
                logger.LogWarning("CUDA was requested but this ONNX Runtime build has only {Providers}; running on CPU. Build with -p:LookoutGpu=true for the CUDA build.",
                    string.Join(", ", available));
            }
            else
            {
                using var cudaOptions = BaseOptions(settings);
                try
                {
                    cudaOptions.AppendExecutionProvider_CUDA(settings.CudaDeviceId);
                    return (open(cudaOptions), "cuda");
                }
                catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
                {
                    logger.LogWarning("CUDA execution provider could not start ({Reason}); running on CPU.", ex.Message.Split('\n')[0]);
                }
            }
        }
        using var cpuOptions = BaseOptions(settings);
        return (open(cpuOptions), "cpu");
    }

    private static SessionOptions BaseOptions(InferenceSettings settings)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = settings.IntraOpThreads > 0 ? settings.IntraOpThreads : Environment.ProcessorCount,
            InterOpNumThreads = 1,
        };
        if (!settings.AllowSpinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    private static (int Height, int Width) ResolveInputSize(int[] dims, IReadOnlyDictionary<string, string> metadata)
    {
        int h = dims[2], w = dims[3];
        if (h > 0 && w > 0) return (h, w);
        // Dynamic exports: Ultralytics records the export size as "imgsz": "[640, 640]".
        if (metadata.TryGetValue("imgsz", out var imgsz))
        {
            var parts = imgsz.Trim('[', ']', ' ').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], out var mh) && int.TryParse(parts[1], out var mw)) return (mh, mw);
        }
        return (640, 640);
    }

    private long[] WarmUp()
    {
        var input = new float[3 * InputWidth * InputHeight];
        using var value = OrtValue.CreateTensorValueFromMemory(input, _inputShape);
        using var runOptions = new RunOptions();
        if (_concurrentSession is not null)
            using (_concurrentSession.Run(runOptions, [_inputName], [value], [_outputName])) { }
        using var outputs = _session.Run(runOptions, [_inputName], [value], [_outputName]);
        return outputs[0].GetTensorTypeAndShape().Shape;
    }

    /// <summary>
    /// Marks a request as doing CPU work for this model until disposed; <see cref="Run"/> picks its session from the
    /// count. Each pipeline stage enters on its own, so a request counts once at any moment.
    /// </summary>
    internal BusyScope EnterBusy() => new(this);

    internal readonly struct BusyScope : IDisposable
    {
        private readonly DetectionModel _model;
        public BusyScope(DetectionModel model) { _model = model; Interlocked.Increment(ref model._busy); }
        public void Dispose() => Interlocked.Decrement(ref _model._busy);
    }

    internal InferenceBuffers RentBuffers() =>
        _buffers.TryTake(out var buffers) ? buffers : new InferenceBuffers(_inputShape, _outputShape);

    internal void ReturnBuffers(InferenceBuffers buffers) => _buffers.Add(buffers);

    /// <summary>Runs the session on the filled input buffer; the result lands in the buffer's output array.</summary>
    internal void Run(InferenceBuffers buffers, CancellationToken cancellationToken)
    {
        using var runOptions = new RunOptions();
        // ONNX Runtime checks Terminate between nodes, so a cancelled request stops early and frees its core.
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(() => runOptions.Terminate = true)
            : default;
        // While another request is busy with this model (decoding, running or drawing), take the narrow session:
        // the cores are shared, and a wide spinning session would fight the other request for them.
        bool alone = Volatile.Read(ref _busy) <= 1;
        try
        {
            var session = alone || _concurrentSession is null ? _session : _concurrentSession;
            session.Run(runOptions, [_inputName], [buffers.InputValue], [_outputName], [buffers.OutputValue]);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

    }

    public void Dispose()
    {
        while (_buffers.TryTake(out var buffers)) buffers.Dispose();
        _concurrentSession?.Dispose();
        _session.Dispose();
    }
}

/// <summary>A pinned input and output tensor pair reused across requests.</summary>
internal sealed class InferenceBuffers : IDisposable
{
    public InferenceBuffers(long[] inputShape, long[] outputShape)
    {
        Input = new float[inputShape.Aggregate(1L, (a, b) => a * b)];
        Output = new float[outputShape.Aggregate(1L, (a, b) => a * b)];
        InputValue = OrtValue.CreateTensorValueFromMemory(Input, inputShape);
        OutputValue = OrtValue.CreateTensorValueFromMemory(Output, outputShape);
    }

    public float[] Input { get; }
    public float[] Output { get; }
    public OrtValue InputValue { get; }
    public OrtValue OutputValue { get; }

    public void Dispose()
    {
        InputValue.Dispose();
        OutputValue.Dispose();
    }
}
