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
    /// <summary>
    /// Percentile 99.99 by default: with the service's current input (full decode, area resize) YOLOv8n with every
    /// layer int8 lost 0.0078 AP with it and 0.0200 with min/max (docs/int8.md).
    /// </summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.Percentile;

    /// <summary>The share of each activation's values kept inside its range (percentile method).</summary>
    public double Percentile { get; init; } = 99.99;

    /// <summary>Give layers back to float until the target (the gate that will be applied) is met.</summary>
    public bool Sensitivity { get; init; } = true;

    /// <summary>The agreement target: the gate without labels, and then the sensitivity step's target too.</summary>
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

/// <summary>What a target says of one quantised candidate: met or not, how close (higher is closer), and the figures.</summary>
public sealed record TargetCheck(bool Met, double Closeness, string Text)
{
    public override string ToString() => Text;
}

/// <summary>
/// The test the sensitivity step aims at. It should be the gate that will be applied afterwards (AP on the labelled
/// validation set when there is one), so the step gives back to float only what that gate needs.
/// </summary>
public delegate Task<TargetCheck> QuantizationTarget(Detector candidate, CancellationToken cancellationToken);

/// <summary>One try of the sensitivity step: these layers float, this result against the target.</summary>
public sealed record SensitivityStep(IReadOnlyList<string> FloatLayers, TargetCheck Check);

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
    /// Quantises everything, then, while <paramref name="target"/> is not met, gives back to float the convolutions
    /// whose activations quantise worst (lowest signal-to-quantisation-noise ratio from their calibrated histograms, at
    /// the convolution's input or output), 1, 2, 4, 8… of them, measuring each try. Without a target, the agreement
    /// with float on the calibration images (<see cref="AgreementTarget"/>).
    /// </summary>
    public async Task<SensitivityResult> QuantizeWithSensitivityAsync(CalibrationData data, QuantizationTarget? target = null,
        Action<SensitivityStep>? progress = null, CancellationToken cancellationToken = default)
    {
        target ??= AgreementTarget(data.Images);
        var first = Quantize(data);
        var steps = new List<SensitivityStep>();
        var check = await MeasureAsync(first, target, cancellationToken);
        steps.Add(new SensitivityStep([], check));
        progress?.Invoke(steps[^1]);
        if (!Options.Sensitivity || check.Met) return new SensitivityResult(first, steps, check.Met);

        var ranked = RankLayers(data, first);
        var best = (Graph: first, Check: check);
        for (int count = 1; ; count *= 2)
        {
            var layers = ranked.Take(Math.Min(count, Options.MaxFloatLayers)).ToList();
            if (layers.Count == 0) break;
            var graph = Quantize(data, layers);
            var c = await MeasureAsync(graph, target, cancellationToken);
            steps.Add(new SensitivityStep(layers, c));
            progress?.Invoke(steps[^1]);
            if (c.Met) return new SensitivityResult(graph, steps, true);
            if (c.Closeness > best.Check.Closeness) best = (graph, c);
            if (layers.Count >= Math.Min(Options.MaxFloatLayers, ranked.Count)) break;
        }
        return new SensitivityResult(best.Graph, steps, false);
    }

    /// <summary>
    /// The target without labels: agreement with float on <paramref name="images"/> (≥ <see cref="QuantizationOptions.MinMatched"/>
    /// matched, ≤ <see cref="QuantizationOptions.MaxShiftPx"/> mean shift). Short of it, the closer try wins: more matched
    /// until the match target is reached, then less shift.
    /// </summary>
    public QuantizationTarget AgreementTarget(IReadOnlyList<string> images) => (candidate, cancellationToken) =>
    {
        var a = CompareWithFloat(candidate, images, cancellationToken: cancellationToken);
        double closeness = Math.Min(a.Matched, Options.MinMatched) * 1000 - a.MeanShiftPx;
        return Task.FromResult(new TargetCheck(a.Meets(Options.MinMatched, Options.MaxShiftPx), closeness, $"{a} (calibration images)"));
    };

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

    private async Task<TargetCheck> MeasureAsync(QuantizedGraph graph, QuantizationTarget target, CancellationToken cancellationToken)
    {
        using var model = DetectionModel.Load(FloatModel.Name + "-int8", FloatModel.Family, graph.ToBytes(), new InferenceSettings(), FloatModel.Names);
        return await target(new Detector(model), cancellationToken);
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
            Set("names", ClassNames.FormatUltralyticsNames(FloatModel.Names));
        if (!metadata.Any(p => p.Key == "imgsz"))
            Set("imgsz", $"[{FloatModel.InputHeight}, {FloatModel.InputWidth}]");
        foreach (var (key, value) in facts.ToMetadata()) Set(key, value);
        model.ProducerName = "Lookout.Detection.Quantization";
        return model.ToByteArray();
    }

}
