using System.Diagnostics;
using System.Globalization;
using Lookout.Cli.Commands;
using Lookout.Cli.Infrastructure;
using Lookout.Detection;
using Lookout.Detection.Evaluation;
using Lookout.Detection.Imaging;

namespace Lookout.Cli.Evaluation;

/// <summary>One model's evaluation: its detections, the metric with its matching, the curves and the JSON report.</summary>
internal sealed record ModelResult(
    string Name,
    Detector Detector,
    EvaluationDataset Dataset,
    IReadOnlyList<ScoredDetection> Detections,
    CocoEvaluation Evaluation,
    EvaluationCurves Curves,
    EvalReport Report)
{
    public string CategoryName(int id) =>
        Dataset.Categories.FirstOrDefault(c => c.Id == id)?.Name ?? id.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Runs every model over the evaluation images and scores each. Models take turns image by image (A, B, A, B…), so
/// on a machine whose speed drifts their ms/image are measured under the same conditions; each model first detects
/// once untimed (its first inference pays for ONNX Runtime's warm-up).
/// </summary>
internal static class EvalRunner
{
    /// <returns>The results in model order, or null after writing the failed images to stderr (an evaluation needs
    /// every image).</returns>
    public static async Task<IReadOnlyList<ModelResult>?> RunAsync(CliEnvironment env, EvalSettings settings, EvalData data,
        IReadOnlyList<Detector> detectors, DetectionOptions options, bool progress, Stopwatch total, CancellationToken cancellationToken)
    {
        int models = detectors.Count;
        var detections = Enumerable.Range(0, models).Select(_ => new List<ScoredDetection>()).ToArray();
        var sizes = Enumerable.Range(0, models).Select(_ => new Dictionary<string, (int Width, int Height)>(StringComparer.Ordinal)).ToArray();
        var detectMs = new double[models];
        var decodeMs = new double[models];
        var preprocessMs = new double[models];
        var failures = new List<string>();
        bool warmedUp = false;

        string what = models == 1 ? "Evaluating" : $"Evaluating {models} models";
        await ProgressRunner.RunAsync(env.Error, progress, what, data.Work.Count, async step =>
        {
            foreach (var (imageId, path) in data.Work)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
                    if (!warmedUp)
                    {
                        foreach (var d in detectors) d.Detect(bytes, options, cancellationToken);
                        warmedUp = true;
                    }
                    for (int m = 0; m < models; m++)
                    {
                        var start = Stopwatch.GetTimestamp();
                        var result = detectors[m].Detect(bytes, options, cancellationToken);
                        detectMs[m] += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        decodeMs[m] += result.Timings.DecodeMs;
                        preprocessMs[m] += result.Timings.PreprocessMs;
                        sizes[m][path] = (result.ImageWidth, result.ImageHeight);
                        foreach (var d in result.Detections)
                            detections[m].Add(new ScoredDetection(imageId, data.CategoryOf(d.ClassId),
                                new BoxXyxy(d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2), d.Score));
                    }
                }
                catch (Exception ex) when (ex is ImageDecodeException or IOException or UnauthorizedAccessException)
                {
                    failures.Add($"{path}: {ex.Message}");
                }
                step(Path.GetFileName(path));
            }
        });
        if (failures.Count > 0)
        {
            foreach (var f in failures) env.WriteError(f);
            env.WriteError($"{failures.Count} of {data.Work.Count} images could not be read; an evaluation needs every image, so no figures are reported.");
            return null;
        }

        // Several input rules asked for one model are told apart by name: "yolox-nano (full-area)". Models that
        // merely differ in their family's own rule keep their plain names.
        bool nameRules = settings.InputRules.Count > 1;
        var results = new List<ModelResult>(models);
        for (int m = 0; m < models; m++)
        {
            var model = detectors[m].Model;
            var dataset = data.DatasetFor(model, sizes[m]);
            if (data.Coco is not null)
            {
                int mismatched = dataset.Images.Count(i => sizes[m][Path.Combine(data.ImagesDirectory, i.FileName!)] != (i.Width, i.Height));
                if (mismatched > 0 && m == 0)
                    env.WriteWarning($"{mismatched} images decode to a size other than the JSON's width/height (EXIF rotation or a different copy); their boxes may not line up.");
            }
            var evaluation = CocoEvaluator.EvaluateDetailed(dataset.Images, dataset.GroundTruths, detections[m],
                new CocoEvaluationSettings { CategoryIds = dataset.CategoryIds });
            var names = dataset.Categories.GroupBy(c => c.Id).ToDictionary(g => g.Key, g => g.First().Name);
            string NameOf(int id) => names.GetValueOrDefault(id, id.ToString(CultureInfo.InvariantCulture));
            var curves = EvaluationCurves.Compute(detections[m], evaluation, NameOf);
            var metrics = evaluation.Metrics;
            var best = curves.Best is { } b ? new EvalBestF1(b.ScoreThreshold, Math.Round(b.F1, 4), Math.Round(b.Precision, 4), Math.Round(b.Recall, 4)) : null;
            var name = nameRules ? $"{model.Name} ({detectors[m].InputRule.Name})" : model.Name;
            var report = new EvalReport(
                name, settings.Images!, settings.Labels, settings.CocoJson,
                new EvalThresholds(settings.Confidence, settings.Iou, settings.MaxDetections),
                dataset.Images.Count, dataset.GroundTruths.Count, detections[m].Count,
                Math.Round(total.Elapsed.TotalSeconds, 3), Math.Round(detectMs[m] / data.Work.Count, 2),
                new EvalStats(metrics.AP, metrics.AP50, metrics.AP75, metrics.APSmall, metrics.APMedium, metrics.APLarge,
                    metrics.AR1, metrics.AR10, metrics.AR100, metrics.ARSmall, metrics.ARMedium, metrics.ARLarge),
                metrics.PerCategory.Select(c => new EvalClass(c.CategoryId, NameOf(c.CategoryId),
                    c.AP, c.AP50, c.AP75, c.AR100, c.GroundTruthCount, c.DetectionCount)).ToList(),
                best)
            {
                InputRule = detectors[m].InputRule.Name,
                DecodeMsPerImage = Math.Round(decodeMs[m] / data.Work.Count, 2),
                PreprocessMsPerImage = Math.Round(preprocessMs[m] / data.Work.Count, 2),
            };

            if (settings.SaveDetections is not null)
            {
                var map = data.IsCoco ? null : CocoImageIdMap.Create(dataset.Images.Select(i => i.ImageId));
                CocoJson.WriteResults(settings.SaveDetections, detections[m], map);
            }
            results.Add(new ModelResult(name, detectors[m], dataset, detections[m], evaluation, curves, report));
        }
        return results;
    }
}
