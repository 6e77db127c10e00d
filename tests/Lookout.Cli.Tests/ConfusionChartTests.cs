using Lookout.Cli.Evaluation;
using Lookout.Detection.Evaluation;
using Lookout.Detection.Tests.Support;
using SkiaSharp;

namespace Lookout.Cli.Tests;

public sealed class ConfusionChartTests
{
    [Fact]
    public void Confusion_matrix_of_all_80_COCO_classes_stays_legible_and_light()
    {
        // One image per class: its object found, except every 7th called by the next class and every 5th missed.
        var images = new List<EvaluationImage>();
        var gts = new List<GroundTruth>();
        var dts = new List<ScoredDetection>();
        var box = new BoxXyxy(10, 10, 110, 110);
        for (int k = 0; k < CocoCategories.Count; k++)
        {
            string id = k.ToString(System.Globalization.CultureInfo.InvariantCulture);
            images.Add(new EvaluationImage(id, 640, 480));
            for (int n = 0; n <= k % 3; n++) gts.Add(new GroundTruth(id, CocoCategories.ToCocoId(k), new BoxXyxy(10 + 150 * n, 10, 110 + 150 * n, 110)));
            if (k % 5 == 4) continue;
            int predicted = k % 7 == 6 ? (k + 1) % CocoCategories.Count : k;
            dts.Add(new ScoredDetection(id, CocoCategories.ToCocoId(predicted), box, 0.9));
            dts.Add(new ScoredDetection(id, CocoCategories.ToCocoId(k), new BoxXyxy(400, 300, 450, 350), 0.6)); // a false alarm
        }
        var e = CocoEvaluator.EvaluateDetailed(images, gts, dts, new CocoEvaluationSettings { CategoryIds = CocoCategories.CategoryIds });
        var cm = ConfusionMatrix.Compute(OutcomesAtThreshold.Compute(images, gts, dts, e.Matches, 0.5), gts, dts, CocoCategories.Categories);
        Assert.Equal(81, cm.Labels.Count);

        var path = Path.Combine(TestAssets.TestOutputDirectory("cli-confusion-chart"), "confusion_80.png");
        ReportCharts.Confusion(path, "synthetic", cm, "score ≥ 0.50");

        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        // 81 cells of at least 15 px, plus room for the longest class name on both axes and the colour bar.
        Assert.InRange(bitmap.Width, 81 * 15 + 150, 2000);
        Assert.InRange(bitmap.Height, 81 * 15 + 150, 2000);
        Assert.InRange(new FileInfo(path).Length, 20_000, 600_000);
    }
}
