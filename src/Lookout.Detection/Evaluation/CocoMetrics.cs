using System.Globalization;
using System.Text;

namespace Lookout.Detection.Evaluation;

/// <summary>Per-category results at area "all", maxDets 100; -1 where the category has no
/// (non-crowd) ground truth.</summary>
public sealed record CategoryMetrics(
    int CategoryId,
    double AP,
    double AP50,
    double AP75,
    double AR100,
    int GroundTruthCount,
    int DetectionCount);

/// <summary>The 12 standard COCO bbox statistics (pycocotools' COCOeval.stats, same order), -1 when
/// undefined, plus per-category results.</summary>
public sealed record CocoMetrics(
    double AP,
    double AP50,
    double AP75,
    double APSmall,
    double APMedium,
    double APLarge,
    double AR1,
    double AR10,
    double AR100,
    double ARSmall,
    double ARMedium,
    double ARLarge,
    IReadOnlyList<CategoryMetrics> PerCategory)
{
    /// <summary>The 12 statistics in pycocotools' order (stats[0]..stats[11]).</summary>
    public IReadOnlyList<double> Stats =>
        [AP, AP50, AP75, APSmall, APMedium, APLarge, AR1, AR10, AR100, ARSmall, ARMedium, ARLarge];

    /// <summary>The summary printed by pycocotools' COCOeval.summarize().</summary>
    public string FormatSummary()
    {
        (string Title, string Type, string Iou, string Area, int MaxDets)[] rows =
        [
            ("Average Precision", "(AP)", "0.50:0.95", "all", 100),
            ("Average Precision", "(AP)", "0.50", "all", 100),
            ("Average Precision", "(AP)", "0.75", "all", 100),
            ("Average Precision", "(AP)", "0.50:0.95", "small", 100),
            ("Average Precision", "(AP)", "0.50:0.95", "medium", 100),
            ("Average Precision", "(AP)", "0.50:0.95", "large", 100),
            ("Average Recall", "(AR)", "0.50:0.95", "all", 1),
            ("Average Recall", "(AR)", "0.50:0.95", "all", 10),
            ("Average Recall", "(AR)", "0.50:0.95", "all", 100),
            ("Average Recall", "(AR)", "0.50:0.95", "small", 100),
            ("Average Recall", "(AR)", "0.50:0.95", "medium", 100),
            ("Average Recall", "(AR)", "0.50:0.95", "large", 100),
        ];
        var stats = Stats;
        var sb = new StringBuilder();
        for (int i = 0; i < rows.Length; i++)
        {
            var r = rows[i];
            sb.Append(CultureInfo.InvariantCulture,
                $" {r.Title,-18} {r.Type} @[ IoU={r.Iou,-9} | area={r.Area,6} | maxDets={r.MaxDets,3} ] = {stats[i]:0.000}");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
