using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Lookout.Cli.Evaluation;
using Lookout.Cli.Infrastructure;
using Lookout.Detection;
using Lookout.Detection.Darknet;
using Lookout.Detection.Evaluation;
using Lookout.Detection.Models;
using Lookout.Detection.Quantization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class ModelsQuantizeSettings : ModelSettings
{
    [CommandOption("--calibration <DIR>")]
    [Description("Folder of calibration images (not searched recursively): photos like those the model will see.")]
    public string? Calibration { get; init; }

    [CommandOption("--images <N>")]
    [Description("Calibration images to use (the first N readable ones, by file name).")]
    [DefaultValue(64)]
    public int Images { get; init; } = 64;

    [CommandOption("--out <FILE>")]
    [Description("The int8 .onnx file to write (its folder must exist). Not written when the gate fails, unless --force.")]
    public string? Out { get; init; }

    [CommandOption("--method <METHOD>")]
    [Description("Activation ranges from the calibration histograms: 'minmax' (the extremes seen) or 'percentile' (keep --percentile % of each tensor's values).")]
    [DefaultValue("percentile")]
    public string Method { get; init; } = "percentile";

    [CommandOption("--percentile <P>")]
    [Description("Share of each activation's values kept inside its range (percentile method).")]
    [DefaultValue(99.99)]
    public double Percentile { get; init; } = 99.99;

    [CommandOption("--no-sensitivity")]
    [Description("Quantise every layer; do not give layers back to float when the calibration images disagree with float.")]
    public bool NoSensitivity { get; init; }

    [CommandOption("--max-float-layers <N>")]
    [Description("The most convolutions the sensitivity step may give back to float.")]
    [DefaultValue(16)]
    public int MaxFloatLayers { get; init; } = 16;

    [CommandOption("--keep-float <NODE>")]
    [Description("A Conv node name to keep float (repeatable), whatever the sensitivity step finds.")]
    public string[] KeepFloat { get; init; } = [];

    [CommandOption("--val-images <DIR>")]
    [Description("Validation images for the gate (default: the calibration images, which proves less).")]
    public string? ValImages { get; init; }

    [CommandOption("--val-coco-json <FILE>")]
    [Description("COCO instances JSON of the validation images: the gate compares AP.")]
    public string? ValCocoJson { get; init; }

    [CommandOption("--val-labels <DIR>")]
    [Description("YOLO txt labels of the validation images: the gate compares AP.")]
    public string? ValLabels { get; init; }

    [CommandOption("--max-ap-drop <AP>")]
    [Description("Refuse the int8 model when its AP (0.50:0.95) is lower than float's by more than this.")]
    [DefaultValue(0.01)]
    public double MaxApDrop { get; init; } = 0.01;

    [CommandOption("--min-matched <SHARE>")]
    [Description("Agreement target: share of detections matched with float's (same class, IoU ≥ 0.5).")]
    [DefaultValue(0.95)]
    public double MinMatched { get; init; } = 0.95;

    [CommandOption("--max-shift <PX>")]
    [Description("Agreement target: mean box shift from float's, in pixels of the model input.")]
    [DefaultValue(1.0)]
    public double MaxShift { get; init; } = 1.0;

    [CommandOption("--force")]
    [Description("Write the model even when it fails the gate (the failure is recorded in its metadata).")]
    public bool Force { get; init; }

    [CommandOption("--speed-rounds <N>")]
    [Description("Interleaved rounds of the float vs int8 Run timing at the end (0: skip).")]
    [DefaultValue(10)]
    public int SpeedRounds { get; init; } = 10;

    public bool HasValLabels => ValCocoJson is not null || ValLabels is not null;

    public override ValidationResult Validate()
    {
        if (Calibration is null) return ValidationResult.Error("--calibration DIR is required.");
        if (!Directory.Exists(Calibration)) return ValidationResult.Error($"Calibration folder not found: {Calibration}");
        if (Out is null) return ValidationResult.Error("--out FILE.onnx is required.");
        if (!Out.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return ValidationResult.Error($"--out must name an .onnx file: {Out}");
        var folder = Path.GetDirectoryName(Path.GetFullPath(Out));
        if (folder is null || !Directory.Exists(folder)) return ValidationResult.Error($"The folder of --out does not exist: {folder}");
        if (Images < 1) return ValidationResult.Error("--images must be at least 1.");
        if (Method is not ("percentile" or "minmax")) return ValidationResult.Error("--method must be 'percentile' or 'minmax'.");
        if (!(Percentile is > 50 and <= 100)) return ValidationResult.Error("--percentile must be above 50 and at most 100.");
        if (MaxFloatLayers < 0) return ValidationResult.Error("--max-float-layers must be 0 or more.");
        if (ValCocoJson is not null && ValLabels is not null) return ValidationResult.Error("Give one of --val-coco-json and --val-labels.");
        if (HasValLabels && ValImages is null) return ValidationResult.Error("--val-coco-json and --val-labels need --val-images DIR.");
        if (ValImages is not null && !Directory.Exists(ValImages)) return ValidationResult.Error($"Validation image folder not found: {ValImages}");
        if (ValLabels is not null && !Directory.Exists(ValLabels)) return ValidationResult.Error($"Label folder not found: {ValLabels}");
        if (ValCocoJson is not null && !File.Exists(ValCocoJson)) return ValidationResult.Error($"COCO JSON file not found: {ValCocoJson}");
        if (!(MaxApDrop >= 0)) return ValidationResult.Error("--max-ap-drop must be 0 or more.");
        if (!(MinMatched is >= 0 and <= 1)) return ValidationResult.Error("--min-matched must be between 0 and 1.");
        if (!(MaxShift >= 0)) return ValidationResult.Error("--max-shift must be 0 or more.");
        if (SpeedRounds < 0) return ValidationResult.Error("--speed-rounds must be 0 or more.");
        return base.Validate();
    }
}

/// <summary>
/// <c>lookout models quantize</c>: the engine's <see cref="ModelQuantizer"/> behind a progress bar, then the gate
/// (AP through the eval command's loaders and metric, or agreement with float), the fused-op counts and the speed.
/// </summary>
public sealed class ModelsQuantizeCommand(CliEnvironment env) : AsyncCommand<ModelsQuantizeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ModelsQuantizeSettings settings, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        bool progress = env.CanShowProgress(false, settings.NoProgress);
        var console = env.Console;

        var calibrationFiles = ImageFiles(settings.Calibration!);
        if (calibrationFiles.Count == 0)
            throw new UsageException($"No images in the calibration folder {settings.Calibration} (looked for {string.Join(", ", YoloLabels.ImageExtensions)}).");
        var gateData = settings.HasValLabels
            ? EvalData.Load(new EvalSettings { Images = settings.ValImages, CocoJson = settings.ValCocoJson, Labels = settings.ValLabels })
            : null;

        using var catalog = new ModelCatalog(settings.CreateAssetStore(), new InferenceSettings { IntraOpThreads = settings.Threads });
        var floatModel = await ModelLoading.LoadAsync(env, catalog, settings.Model, progress, cancellationToken);
        gateData?.CheckModel(floatModel);
        var (sourceBytes, sourceName) = await SourceAsync(catalog, settings.Model, cancellationToken);

        var options = new QuantizationOptions
        {
            Method = settings.Method == "minmax" ? CalibrationMethod.MinMax : CalibrationMethod.Percentile,
            Percentile = settings.Percentile,
            Sensitivity = !settings.NoSensitivity,
            MaxFloatLayers = settings.MaxFloatLayers,
            MinMatched = settings.MinMatched,
            MaxShiftPx = settings.MaxShift,
            KeepFloat = settings.KeepFloat,
        };
        ModelQuantizer quantizer;
        try { quantizer = new ModelQuantizer(sourceBytes, floatModel, options); }
        catch (UnsupportedModelException ex) { throw new UsageException(ex.Message); }
        var method = options.Method == CalibrationMethod.MinMax ? "minmax" : string.Create(CultureInfo.InvariantCulture, $"percentile {options.Percentile}");
        console.MarkupLine(Markup.Escape($"Quantising {floatModel.Name} ({floatModel.Family}, {floatModel.InputWidth}×{floatModel.InputHeight}) from {sourceName}: static QDQ, int8 weights per channel, uint8 activations ({method})."));
        Cpu.WarnWithoutVnni(env);

        CalibrationData? calibration = null;
        int planned = Math.Min(settings.Images, calibrationFiles.Count);
        await ProgressRunner.RunAsync(env.Error, progress, "Calibrating", planned, step =>
        {
            calibration = quantizer.Calibrate(calibrationFiles, settings.Images, step, cancellationToken);
            return Task.CompletedTask;
        });
        foreach (var s in calibration!.Skipped) env.WriteWarning($"skipped {s.Path}: {s.Reason}");
        if (calibration.Images.Count == 0)
            throw new UsageException($"None of the {calibrationFiles.Count} images in {settings.Calibration} could be read ({calibration.Skipped.Count} skipped).");
        console.MarkupLine(Markup.Escape($"Calibrated on {calibration.Images.Count} images ({calibration.Skipped.Count} unreadable skipped), {calibration.Histograms.Count} activation tensors."));
        if (calibration.Images.Count < settings.Images)
            env.WriteWarning($"only {calibration.Images.Count} readable calibration images of the {settings.Images} asked for.");

        // The sensitivity step aims at the gate that will be applied: with labels, AP on the validation set (a layer
        // goes back to float only when AP needs it); without, agreement with float on the calibration images.
        var apGate = gateData is null ? null : new ApGate(env, settings, gateData, quantizer.FloatDetector, total);
        QuantizationTarget? target = apGate is null ? null : apGate.CheckAsync;
        // Each try prints its line as it ends (a try is one quantised build measured against the target).
        var result = await quantizer.QuantizeWithSensitivityAsync(calibration, target, s => console.MarkupLine(Markup.Escape(
            $"  {(s.FloatLayers.Count == 0 ? "every layer int8" : $"{s.FloatLayers.Count} layer(s) float")}: {s.Check}")), cancellationToken);
        var graph = result.Graph;
        var floatLayers = graph.FloatLayers.ToList();
        console.MarkupLine(Markup.Escape($"Quantised {graph.Summary.QuantizedNodes} nodes ({Counts(graph.Summary.QuantizedByOp)}); " +
            $"float: the head's {graph.Summary.HeadConvolutions.Count} last convolutions and the decoding" +
            (floatLayers.Count > 0 ? $", and {floatLayers.Count} layer(s): {string.Join(", ", floatLayers)}" : "") + "."));
        if (!result.TargetMet && options.Sensitivity)
            env.WriteWarning($"the sensitivity step did not reach its target ({(apGate is null ? "agreement" : "AP drop")}) with up to {options.MaxFloatLayers} float layers.");

        var bytes = graph.ToBytes();
        var fused = ModelQuantizer.OptimizedOpCounts(bytes);
        console.MarkupLine(Markup.Escape($"ONNX Runtime CPU graph after optimisation: {Counts(fused)}."));
        if (fused.GetValueOrDefault("QLinearConv") == 0)
            env.WriteWarning("ONNX Runtime fused no convolution into QLinearConv: this model will not run faster as int8.");

        using var int8Model = DetectionModel.Load(floatModel.Name + "-int8", floatModel.Family, bytes, new InferenceSettings { IntraOpThreads = settings.Threads }, floatModel.Names);
        var int8Detector = new Detector(int8Model);
        var gate = await GateAsync(settings, apGate, quantizer, calibration, int8Detector, progress, cancellationToken);
        console.MarkupLine(Markup.Escape(gate.Text));

        if (settings.SpeedRounds > 0)
        {
            var speeds = new[] { 1, Environment.ProcessorCount }.Distinct()
                .Select(t => RunSpeed.Measure(quantizer.FloatSource, bytes, floatModel.Family, t, settings.SpeedRounds)).ToList();
            var table = new Table().Border(TableBorder.Rounded).Title($"Bare Run, medians of {settings.SpeedRounds} interleaved rounds")
                .AddColumn("Threads").AddColumn(new TableColumn("float ms").RightAligned()).AddColumn(new TableColumn("int8 ms").RightAligned())
                .AddColumn(new TableColumn("speed-up").RightAligned());
            foreach (var s in speeds)
                table.AddRow(s.Threads.ToString(CultureInfo.InvariantCulture), F1(s.FloatMs), F1(s.Int8Ms), string.Create(CultureInfo.InvariantCulture, $"{s.MedianSpeedup:0.00}×"));
            console.Write(table);
        }

        if (!gate.Passed && !settings.Force)
        {
            env.WriteError($"the int8 model fails the gate and was not written ({gate.Text}). Use --force to write it anyway.");
            return ExitCodes.GateFailed;
        }
        var facts = new QuantizationFacts(sourceName, quantizer.SourceSha256, calibration.Images.Count, method, floatLayers,
            (gate.Passed ? "passed: " : "FAILED (written with --force): ") + gate.Text);
        await File.WriteAllBytesAsync(settings.Out!, quantizer.Finish(graph, facts), cancellationToken);
        console.MarkupLine(Markup.Escape($"Wrote {settings.Out} ({new FileInfo(settings.Out!).Length:N0} bytes) in {total.Elapsed.TotalSeconds:0} s."));
        return gate.Passed ? ExitCodes.Success : ExitCodes.GateFailed;
    }

    private sealed record GateOutcome(bool Passed, string Text);

    private async Task<GateOutcome> GateAsync(ModelsQuantizeSettings settings, ApGate? apGate, ModelQuantizer quantizer, CalibrationData calibration,
        Detector int8Detector, bool progress, CancellationToken cancellationToken)
    {
        var images = settings.ValImages is null ? calibration.Images : ImageFiles(settings.ValImages);
        string where = settings.ValImages is null ? "the calibration images" : settings.ValImages;
        DetectionAgreement agreement = null!;
        await ProgressRunner.RunAsync(env.Error, progress, "Comparing with float", images.Count, step =>
        {
            agreement = quantizer.CompareWithFloat(int8Detector, images, step, cancellationToken);
            return Task.CompletedTask;
        });
        bool agrees = agreement.Meets(settings.MinMatched, settings.MaxShift);
        string agreementText = string.Create(CultureInfo.InvariantCulture,
            $"agreement with float on {agreement.Images} images of {where}: {agreement} (target ≥ {settings.MinMatched:P0}, ≤ {settings.MaxShift:0.##} px)");
        if (apGate is null) return new GateOutcome(agrees, agreementText);

        var check = await apGate.CheckAsync(int8Detector, cancellationToken);
        return new GateOutcome(check.Met, $"{check.Text}; {agreementText}");
    }

    /// <summary>
    /// The AP gate (AP 0.50:0.95 through <c>lookout eval</c>'s loaders, runner and metric must not drop more than
    /// --max-ap-drop), shared by the sensitivity step and the final gate; float's evaluation is made once.
    /// </summary>
    private sealed class ApGate(CliEnvironment env, ModelsQuantizeSettings settings, EvalData data, Detector floatDetector, Stopwatch total)
    {
        private readonly EvalSettings _eval = new() { Images = settings.ValImages, CocoJson = settings.ValCocoJson, Labels = settings.ValLabels };
        private CocoMetrics? _float;

        private DetectionOptions Options => new() { Confidence = _eval.Confidence, Iou = _eval.Iou, MaxDetections = _eval.MaxDetections };

        private async Task<CocoMetrics> EvaluateAsync(Detector detector, CancellationToken cancellationToken)
        {
            bool progress = env.CanShowProgress(false, settings.NoProgress);
            var results = await EvalRunner.RunAsync(env, _eval, data, [detector], Options, progress, total, cancellationToken)
                ?? throw new UsageException("The validation set has unreadable images; the gate needs every one.");
            return results[0].Evaluation.Metrics;
        }

        public async Task<TargetCheck> CheckAsync(Detector candidate, CancellationToken cancellationToken)
        {
            _float ??= await EvaluateAsync(floatDetector, cancellationToken);
            var int8 = await EvaluateAsync(candidate, cancellationToken);
            double drop = _float.AP - int8.AP;
            bool passed = drop <= settings.MaxApDrop + 1e-9;
            var text = string.Create(CultureInfo.InvariantCulture,
                $"AP on {data.Work.Count} images of {settings.ValImages}: float {_float.AP:0.0000}, int8 {int8.AP:0.0000}, drop {drop:0.0000} " +
                $"({(passed ? "within" : "more than")} --max-ap-drop {settings.MaxApDrop}); AP50 float {_float.AP50:0.000}, int8 {int8.AP50:0.000}");
            return new TargetCheck(passed, -drop, text);
        }
    }

    /// <summary>The float model's file contents and a name for it (a catalogue name, or the file's name).</summary>
    private static async Task<(byte[] Bytes, string Name)> SourceAsync(ModelCatalog catalog, string model, CancellationToken cancellationToken)
    {
        if (catalog.Assets.Manifest.FindModel(model) is { } info)
        {
            if (info.Family == "darknet")
            {
                var cfg = await catalog.Assets.ResolveAsync(info.Files["cfg"], cancellationToken: cancellationToken);
                var weights = await catalog.Assets.ResolveAsync(info.Files["weights"], cancellationToken: cancellationToken);
                return (DarknetImporter.Import(cfg.Path, weights.Path).OnnxBytes, info.Name);
            }
            var onnx = await catalog.Assets.ResolveAsync(info.Files["onnx"], cancellationToken: cancellationToken);
            return (await File.ReadAllBytesAsync(onnx.Path, cancellationToken), info.Name);
        }
        if (Path.GetExtension(model).Equals(".cfg", StringComparison.OrdinalIgnoreCase))
            return (DarknetImporter.Import(model, Path.ChangeExtension(model, ".weights")).OnnxBytes, Path.GetFileName(model));
        return (await File.ReadAllBytesAsync(model, cancellationToken), Path.GetFileName(model));
    }

    private static List<string> ImageFiles(string folder) =>
        Directory.EnumerateFiles(folder)
            .Where(f => YoloLabels.ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToList();

    private static string Counts(IReadOnlyDictionary<string, int> counts) =>
        string.Join(", ", counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"));

    private static string F1(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
}
