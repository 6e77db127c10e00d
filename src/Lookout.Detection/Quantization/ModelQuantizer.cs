using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Google.Protobuf;
using Lookout.Detection.Models;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Lookout.Detection.Quantization;

/// <summary>How activation ranges are cut from the calibration histograms.</summary>
public enum CalibrationMethod
{
    /// <summary>Keep the given percentile of the values (each tail gets half of the rest): one stray activation does not widen the scale.</summary>
    Percentile,
    /// <summary>The exact minimum and maximum seen.</summary>
    MinMax,
}

public sealed record QuantizationOptions
{
    /// <summary>Min/max by default: on YOLOv8n it kept AP within 0.002 of float where every percentile tried lost ≥ 0.011 (docs/int8.md).</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>The share of each activation's values kept inside its range (percentile method).</summary>
    public double Percentile { get; init; } = 99.99;

    /// <summary>Give layers back to float until the calibration images agree with float.</summary>
    public bool Sensitivity { get; init; } = true;

    /// <summary>The agreement the sensitivity step aims for (the gate's default without labels).</summary>
    public double MinMatched { get; init; } = 0.95;
    public double MaxShiftPx { get; init; } = 1.0;

    /// <summary>The most convolutions the sensitivity step gives back to float.</summary>
    public int MaxFloatLayers { get; init; } = 16;

    /// <summary>Quantise only the convolutions (and data movement); the activations between them stay float.</summary>
    public bool ConvolutionsOnly { get; init; }

    /// <summary>Conv/Gemm/MatMul node names to keep float whatever the measurement says.</summary>
    public IReadOnlyCollection<string> KeepFloat { get; init; } = [];
}

/// <summary>A quantised graph in memory, not yet written.</summary>
public sealed record QuantizedGraph(ModelProto Model, QdqGraphSummary Summary, IReadOnlySet<string> FloatLayers)
{
    public byte[] ToBytes() => Model.ToByteArray();
}

/// <summary>One try of the sensitivity step: these layers float, this agreement on the calibration images.</summary>
public sealed record SensitivityStep(IReadOnlyList<string> FloatLayers, DetectionAgreement Agreement);

public sealed record SensitivityResult(QuantizedGraph Graph, IReadOnlyList<SensitivityStep> Steps, bool TargetMet);

/// <summary>
/// Static int8 quantisation of one detector, step by step so a caller can show each step: <see cref="Calibrate"/>,
/// <see cref="Quantize"/> (or <see cref="QuantizeWithSensitivity"/>), then check (<see cref="CompareWithFloat"/>,
/// <see cref="OptimizedOpCounts"/>) and <see cref="Finish"/> with the facts to record in the file.
/// </summary>
public sealed class ModelQuantizer
{
    private readonly ModelProto _prepared;
    private readonly Dictionary<string, DetectionResult> _floatResults = new(StringComparer.Ordinal);

    /// <param name="sourceOnnx">The float model's file contents.</param>
    /// <param name="floatModel">The same model loaded as a detector (its family, input size and preprocessing are the service's).</param>
    public ModelQuantizer(byte[] sourceOnnx, DetectionModel floatModel, QuantizationOptions? options = null)
    {
        Options = options ?? new QuantizationOptions();
        FloatModel = floatModel;
        FloatDetector = new Detector(floatModel);
        FloatSource = sourceOnnx;
        SourceSha256 = Convert.ToHexStringLower(SHA256.HashData(sourceOnnx));
        ModelProto source;
        try { source = ModelProto.Parser.ParseFrom(sourceOnnx); }
        catch (InvalidProtocolBufferException ex) { throw new UnsupportedModelException($"Not an ONNX model: {ex.Message}"); }
        if (QuantizationFacts.Read(source.MetadataProps.ToDictionary(p => p.Key, p => p.Value)) is not null)
            throw new UnsupportedModelException($"Model '{floatModel.Name}' is already quantised; quantise its float source instead.");
        _prepared = QdqGraphWriter.Prepare(source);
        if (!_prepared.Graph.Node.Any(n => n.OpType == "Conv"))
            throw new UnsupportedModelException($"Model '{floatModel.Name}' has no convolution to quantise.");
    }

    public QuantizationOptions Options { get; }
    public DetectionModel FloatModel { get; }
    public Detector FloatDetector { get; }
    public string SourceSha256 { get; }
    public byte[] FloatSource { get; }

    public CalibrationData Calibrate(IEnumerable<string> images, int count, Action<string?>? progress = null, CancellationToken cancellationToken = default) =>
        ActivationCalibrator.Run(_prepared, FloatDetector, images, count, progress, cancellationToken);

    public IReadOnlyDictionary<string, (float Low, float High)> Ranges(CalibrationData data) =>
        data.Histograms.ToDictionary(h => h.Key, h => Options.Method == CalibrationMethod.MinMax
            ? (h.Value.Min, h.Value.Max)
            : h.Value.PercentileRange(Options.Percentile), StringComparer.Ordinal);

    public QuantizedGraph Quantize(CalibrationData data, IEnumerable<string>? floatLayers = null)
    {
        var keep = new HashSet<string>(Options.KeepFloat, StringComparer.Ordinal);
        if (floatLayers is not null) keep.UnionWith(floatLayers);
        var (model, summary) = QdqGraphWriter.Write(_prepared, Ranges(data), keep, Options.ConvolutionsOnly);
        return new QuantizedGraph(model, summary, keep);
    }

    /// <summary>
    /// Quantises everything, then, while the calibration images disagree with float, gives back to float the
    /// convolutions whose activations quantise worst (lowest signal-to-quantisation-noise ratio from their calibrated
    /// histograms, at the convolution's input or output), 1, 2, 4, 8… of them, measuring the detections each time.
    /// </summary>
    public SensitivityResult QuantizeWithSensitivity(CalibrationData data, Action<SensitivityStep>? progress = null, CancellationToken cancellationToken = default)
    {
        var first = Quantize(data);
        var steps = new List<SensitivityStep>();
        var agreement = Measure(first, data, cancellationToken);
        steps.Add(new SensitivityStep([], agreement));
        progress?.Invoke(steps[^1]);
        if (!Options.Sensitivity || agreement.Meets(Options.MinMatched, Options.MaxShiftPx)) return new SensitivityResult(first, steps, agreement.Meets(Options.MinMatched, Options.MaxShiftPx));

        var ranked = RankLayers(data, first);
        var best = (Graph: first, Agreement: agreement);
        for (int count = 1; ; count *= 2)
        {
            var layers = ranked.Take(Math.Min(count, Options.MaxFloatLayers)).ToList();
            var graph = Quantize(data, layers);
            var a = Measure(graph, data, cancellationToken);
            steps.Add(new SensitivityStep(layers, a));
            progress?.Invoke(steps[^1]);
            if (a.Meets(Options.MinMatched, Options.MaxShiftPx)) return new SensitivityResult(graph, steps, true);
            if (Better(a, best.Agreement)) best = (graph, a);
            if (layers.Count >= Math.Min(Options.MaxFloatLayers, ranked.Count)) break;
        }
        return new SensitivityResult(best.Graph, steps, false);
    }

    /// <summary>Short of the target, the closer try wins: more matched until the match target is reached, then less shift.</summary>
    private bool Better(DetectionAgreement a, DetectionAgreement than)
    {
        double ma = Math.Min(a.Matched, Options.MinMatched), mb = Math.Min(than.Matched, Options.MinMatched);
        return ma != mb ? ma > mb : a.MeanShiftPx < than.MeanShiftPx;
    }

    /// <summary>Quantised convolutions, worst-quantising first.</summary>
    public IReadOnlyList<string> RankLayers(CalibrationData data, QuantizedGraph all)
    {
        var ranges = Ranges(data);
        double Sqnr(string t) => data.Histograms.TryGetValue(t, out var h) && ranges.TryGetValue(t, out var r) ? h.SqnrDb(r.Low, r.High) : double.PositiveInfinity;
        var floatOrHead = all.Summary.FloatConvolutions.Concat(all.Summary.HeadConvolutions).ToHashSet(StringComparer.Ordinal);
        return _prepared.Graph.Node
            .Where(n => n.OpType is "Conv" or "MatMul" or "Gemm" && !floatOrHead.Contains(n.Name))
            .Select(n => (n.Name, Sqnr: Math.Min(Sqnr(n.Input[0]), Sqnr(n.Output[0]))))
            .OrderBy(x => x.Sqnr).Select(x => x.Name).ToList();
    }

    private DetectionAgreement Measure(QuantizedGraph graph, CalibrationData data, CancellationToken cancellationToken)
    {
        using var model = DetectionModel.Load(FloatModel.Name + "-int8", FloatModel.Family, graph.ToBytes(), new InferenceSettings(), FloatModel.Names);
        return CompareWithFloat(new Detector(model), data.Images, cancellationToken: cancellationToken);
    }

    /// <summary>Agreement of <paramref name="candidate"/> with the float model on <paramref name="images"/> (float results are cached).</summary>
    public DetectionAgreement CompareWithFloat(Detector candidate, IEnumerable<string> images, Action<string?>? progress = null, CancellationToken cancellationToken = default)
    {
        var builder = new DetectionAgreement.Builder(FloatModel.InputWidth, FloatModel.InputHeight, DetectionOptions.DefaultConfidence);
        var options = new DetectionOptions { Confidence = DetectionOptions.DefaultConfidence * DetectionAgreement.PartnerScoreShare };
        foreach (var path in images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[] bytes;
            try { bytes = File.ReadAllBytes(path); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { progress?.Invoke(null); continue; }
            DetectionResult reference;
            lock (_floatResults)
            {
                if (!_floatResults.TryGetValue(path, out reference!))
                {
                    try { reference = FloatDetector.Detect(bytes, options, cancellationToken: cancellationToken); }
                    catch (Imaging.ImageDecodeException) { progress?.Invoke(null); continue; }
                    _floatResults[path] = reference;
                }
            }
            builder.Add(reference, candidate.Detect(bytes, options, cancellationToken: cancellationToken));
            progress?.Invoke(Path.GetFileName(path));
        }
        return builder.Build();
    }

    /// <summary>
    /// Op types of the graph ONNX Runtime's CPU provider actually runs (saved through
    /// <see cref="SessionOptions.OptimizedModelFilePath"/> at the service's optimisation level): QLinearConv and friends
    /// show whether the QDQ pattern was fused.
    /// </summary>
    public static IReadOnlyDictionary<string, int> OptimizedOpCounts(byte[] onnx)
    {
        var path = Path.Combine(Path.GetTempPath(), $"lookout-optimised-{Guid.NewGuid():N}.onnx");
        try
        {
            // Error level: saving a graph optimised for this CPU warns that the file is hardware-specific, which is the point here.
            using (var options = new SessionOptions
                   {
                       GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = path, IntraOpNumThreads = 1,
                       LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                   })
            using (new InferenceSession(onnx, options)) { }
            var optimised = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            return optimised.Graph.Node.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count());
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The file to write: the source's metadata (names, family, input size…) plus the quantisation facts.</summary>
    public byte[] Finish(QuantizedGraph graph, QuantizationFacts facts)
    {
        var model = graph.Model.Clone();
        var metadata = model.MetadataProps;
        void Set(string key, string value)
        {
            var existing = metadata.FirstOrDefault(p => p.Key == key);
            if (existing is not null) existing.Value = value;
            else metadata.Add(new StringStringEntryProto { Key = key, Value = value });
        }
        // A catalogue model may carry neither in its file; the int8 file must load alone, by path, the same way.
        Set(DetectionModel.FamilyMetadataKey, FloatModel.Family);
        if (!metadata.Any(p => p.Key == "names"))
            Set("names", "{" + string.Join(", ", FloatModel.Names.Select((n, i) => $"{i}: '{n.Replace("'", "\\'", StringComparison.Ordinal)}'")) + "}");
        if (!metadata.Any(p => p.Key == "imgsz"))
            Set("imgsz", $"[{FloatModel.InputHeight}, {FloatModel.InputWidth}]");
        foreach (var (key, value) in facts.ToMetadata()) Set(key, value);
        model.ProducerName = "Lookout.Detection.Quantization";
        return model.ToByteArray();
    }

}
