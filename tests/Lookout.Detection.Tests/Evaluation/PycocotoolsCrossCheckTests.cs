using Lookout.Detection.Tests.Support;
using System.Globalization;
using System.Text.Json;
using Lookout.Detection.Evaluation;

namespace Lookout.Detection.Tests.Evaluation;

/// <summary>
/// Cross-checks CocoEvaluator against coco_reference.py, an independent numpy port of pycocotools'
/// COCOeval (bbox), on a seeded random data set written as COCO JSON. Needs /usr/bin/python3 with
/// numpy (Debian package python3-numpy).
/// </summary>
public sealed class PycocotoolsCrossCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lookout-coco-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomDataSet_MatchesNumpyReferenceOfPycocotools(int seed)
    {
        var (dataset, detections) = SyntheticDataSet(seed);
        string gtPath = Path.Combine(_dir, "instances.json");
        string dtPath = Path.Combine(_dir, "results.json");
        CocoJson.WriteInstances(gtPath, dataset);
        CocoJson.WriteResults(dtPath, detections);

        // Evaluate what was written, read back through the loaders, exactly as pycocotools sees it.
        var gt = CocoJson.LoadInstances(gtPath);
        var dts = CocoJson.LoadResults(dtPath);
        var evaluation = CocoEvaluator.EvaluateDetailed(gt.Images, gt.GroundTruths, dts,
            new CocoEvaluationSettings { CategoryIds = gt.CategoryIds });
        var metrics = evaluation.Metrics;

        using var reference = JsonDocument.Parse(RunReference(gtPath, dtPath));
        var stats = reference.RootElement.GetProperty("stats").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(12, stats.Length);
        for (int i = 0; i < 12; i++)
            Assert.True(Math.Abs(stats[i] - metrics.Stats[i]) <= 1e-9,
                $"stats[{i}]: reference {stats[i]:R}, C# {metrics.Stats[i]:R}");

        var perCategory = reference.RootElement.GetProperty("per_category");
        Assert.Equal(perCategory.EnumerateObject().Count(), metrics.PerCategory.Count);
        foreach (var c in metrics.PerCategory)
        {
            var r = perCategory.GetProperty(c.CategoryId.ToString(CultureInfo.InvariantCulture));
            Assert.True(Math.Abs(r.GetProperty("ap").GetDouble() - c.AP) <= 1e-9, $"AP of category {c.CategoryId}");
            Assert.True(Math.Abs(r.GetProperty("ap50").GetDouble() - c.AP50) <= 1e-9, $"AP50 of category {c.CategoryId}");
            // The precision-recall curve of the report is pycocotools' own interpolated precision at IoU 0.5.
            var curve = evaluation.Matches.Curves.Single(k => k.CategoryId == c.CategoryId);
            var expected = r.GetProperty("precision50").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(101, curve.InterpolatedPrecision.Count);
            for (int i = 0; i < 101; i++)
                Assert.True(Math.Abs(expected[i] - curve.InterpolatedPrecision[i]) <= 1e-9,
                    $"precision at recall {i / 100.0} of category {c.CategoryId}: reference {expected[i]:R}, C# {curve.InterpolatedPrecision[i]:R}");
        }
        // The data set is built to exercise every statistic: none should be undefined.
        Assert.All(metrics.Stats, s => Assert.True(s > 0 && s < 1, $"statistic {s} not in (0, 1)"));
        Assert.Contains(metrics.PerCategory, c => c.AP == -1);
    }

    private static string RunReference(string gtPath, string dtPath) =>
        ExternalTools.RunPython(Path.Combine("Evaluation", "coco_reference.py"), "python3-numpy", TimeSpan.FromMinutes(1), gtPath, dtPath);

    /// <summary>
    /// ~20 images, 5 categories (ids with gaps) plus one category without objects, boxes of all sizes on a
    /// 1/8-pixel grid (so IoUs are computed identically from corners and from [x,y,w,h]), some crowd
    /// regions and segmentation-style areas, jittered and duplicate detections, false positives, detections
    /// of an unevaluated category, scores on a coarse grid (ties within and across images), one image with
    /// more than 100 detections of a class, images without objects.
    /// </summary>
    internal static (EvaluationDataset Dataset, List<ScoredDetection> Detections) SyntheticDataSet(int seed)
    {
        var rnd = new Random(seed);
        int[] cats = [1, 2, 3, 5, 7];
        double Grid(double v) => Math.Round(v * 8) / 8;
        double Score() => rnd.Next(1, 21) / 20.0;

        var images = new List<EvaluationImage>();
        var gts = new List<GroundTruth>();
        var dts = new List<ScoredDetection>();
        for (int i = 1; i <= 20; i++)
        {
            string id = i.ToString(CultureInfo.InvariantCulture);
            images.Add(new EvaluationImage(id, 640, 480, $"{i:D12}.jpg"));
            bool noObjects = i % 7 == 0;
            int nObjects = noObjects ? 0 : rnd.Next(1, 8);
            for (int n = 0; n < nObjects; n++)
            {
                int cat = cats[rnd.Next(cats.Length)];
                // Sizes spread over small (<32²), medium and large (>96²).
                double w = Grid(Math.Exp(rnd.NextDouble() * Math.Log(250 / 6.0)) * 6);
                double h = Grid(w * (0.5 + rnd.NextDouble()));
                double x = Grid(rnd.NextDouble() * (640 - w));
                double y = Grid(rnd.NextDouble() * Math.Max(1, 480 - h));
                var box = new BoxXyxy(x, y, x + w, y + h);
                bool crowd = rnd.NextDouble() < 0.1;
                double? area = rnd.NextDouble() < 0.2 ? Grid(w * h * (0.6 + 0.3 * rnd.NextDouble())) : null;
                gts.Add(new GroundTruth(id, cat, box, crowd, area));

                // 0..3 detections per object, jittered by up to 15% of its size (duplicates when > 1).
                int nDet = rnd.NextDouble() < 0.15 ? 0 : rnd.Next(1, 4);
                for (int d = 0; d < nDet; d++)
                {
                    double jx = Grid((rnd.NextDouble() - 0.5) * 0.3 * w), jy = Grid((rnd.NextDouble() - 0.5) * 0.3 * h);
                    double jw = Grid((rnd.NextDouble() - 0.5) * 0.3 * w), jh = Grid((rnd.NextDouble() - 0.5) * 0.3 * h);
                    int dcat = rnd.NextDouble() < 0.1 ? cats[rnd.Next(cats.Length)] : cat;
                    dts.Add(new ScoredDetection(id, dcat, new BoxXyxy(x + jx, y + jy, x + w + jw, y + h + jh), Score()));
                }
            }
            // False positives anywhere, some of a category that is not evaluated (4).
            int nFp = rnd.Next(0, 5);
            for (int n = 0; n < nFp; n++)
            {
                double w = Grid(4 + rnd.NextDouble() * 200), h = Grid(4 + rnd.NextDouble() * 200);
                double x = Grid(rnd.NextDouble() * (640 - w)), y = Grid(rnd.NextDouble() * (480 - h));
                int cat = rnd.NextDouble() < 0.1 ? 4 : cats[rnd.Next(cats.Length)];
                dts.Add(new ScoredDetection(id, cat, new BoxXyxy(x, y, x + w, y + h), Score()));
            }
        }
        // Image 3: 120 detections of category 1 around one object: exercises the 100-per-image cut.
        gts.Add(new GroundTruth("3", 1, new BoxXyxy(100, 100, 180, 160)));
        for (int n = 0; n < 120; n++)
        {
            double j = Grid(rnd.NextDouble() * 30);
            dts.Add(new ScoredDetection("3", 1, new BoxXyxy(100 + j, 100, 180 + j, 160 - j / 2), Score()));
        }
        var categories = cats.Append(9).Select(c => new EvaluationCategory(c, $"class{c}")).ToArray();
        return (new EvaluationDataset(images, gts, categories), dts);
    }
}
