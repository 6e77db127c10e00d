using System.Text.Json.Serialization;
using Lookout.Cli.Commands;

namespace Lookout.Cli.Evaluation;

/// <summary>A threshold sweep as written to curves.json; precision is null where no detection is left, recall where a
/// class has no objects.</summary>
public sealed record SweepJson(int GroundTruthCount, IReadOnlyList<double?> Precision, IReadOnlyList<double?> Recall,
    IReadOnlyList<double> F1, IReadOnlyList<int> TruePositives, IReadOnlyList<int> FalsePositives);

public sealed record AllClassesJson(double Ap50, IReadOnlyList<double> Precision);

public sealed record ClassCurvesJson(int CategoryId, string Name, int GroundTruthCount, int DetectionCount, double Ap50, double MaxRecall,
    IReadOnlyList<double> Precision, SweepJson Sweep);

/// <summary>curves.json: the data of pr_curve.png and f1_curve.png.</summary>
public sealed record CurvesJson(
    string Model,
    double Iou,
    string About,
    IReadOnlyList<double> RecallThresholds,
    IReadOnlyList<double> ScoreThresholds,
    AllClassesJson AllClasses,
    SweepJson AllObjects,
    EvalBestF1? BestF1,
    IReadOnlyList<ClassCurvesJson> Classes);

/// <summary>confusion_matrix.json.</summary>
public sealed record ConfusionJson(
    string Model,
    double Iou,
    double ScoreThreshold,
    string ScoreThresholdSource,
    string About,
    IReadOnlyList<string> Labels,
    IReadOnlyList<int?> CategoryIds,
    IReadOnlyList<int[]> Counts,
    IReadOnlyList<double[]> Normalized,
    int IgnoredDetections);

/// <summary>The report's JSON files, snake_case like the CLI's other JSON.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(CurvesJson))]
[JsonSerializable(typeof(ConfusionJson))]
[JsonSerializable(typeof(EvalComparisonReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
