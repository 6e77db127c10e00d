using System.Diagnostics;
using System.Text;
using Lookout.Detection.Evaluation;
using Xunit.Abstractions;

namespace Lookout.Detection.Tests.Evaluation;

public class CocoCategoriesTests
{
    [Fact]
    public void Has80DistinctIdsIn1To90WithTheStandardGaps()
    {
        Assert.Equal(80, CocoCategories.CategoryIds.Count);
        Assert.Equal(80, CocoCategories.Names.Count);
        Assert.Equal(80, CocoCategories.CategoryIds.Distinct().Count());
        var missing = Enumerable.Range(1, 90).Except(CocoCategories.CategoryIds);
        Assert.Equal([12, 26, 29, 30, 45, 66, 68, 69, 71, 83], missing);
    }

    [Theory]
    [InlineData(0, 1, "person")]
    [InlineData(10, 11, "fire hydrant")]
    [InlineData(11, 13, "stop sign")]
    [InlineData(39, 44, "bottle")]
    [InlineData(62, 72, "tv")]
    [InlineData(79, 90, "toothbrush")]
    public void MapsClassToCocoIdAndBack(int cls, int cocoId, string name)
    {
        Assert.Equal(cocoId, CocoCategories.ToCocoId(cls));
        Assert.Equal(cls, CocoCategories.ToClassIndex(cocoId));
        Assert.Equal(name, CocoCategories.NameOfClass(cls));
    }

    [Fact]
    public void RejectsIdsOutsideTheMapping()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CocoCategories.ToCocoId(80));
        Assert.Throws<ArgumentOutOfRangeException>(() => CocoCategories.ToClassIndex(12));
        Assert.False(CocoCategories.TryGetClassIndex(0, out _));
    }
}

public class CocoImageIdMapTests
{
    [Fact]
    public void NumericStems_UseTheirNumber()
    {
        var map = CocoImageIdMap.Create(["000000000009", "000000000025"]);
        Assert.True(map.IsNumeric);
        Assert.Equal(9, map.ToCoco("000000000009"));
        Assert.Equal("000000000025", map.FromCoco(25));
    }

    [Fact]
    public void AnyNonNumericStem_NumbersAllSequentiallyFromOne()
    {
        var map = CocoImageIdMap.Create(["7", "cat", "3"]);
        Assert.False(map.IsNumeric);
        Assert.Equal([1, 2, 3], new[] { "7", "cat", "3" }.Select(map.ToCoco));
    }

    [Fact]
    public void NumericStemsThatCollide_NumberSequentially()
    {
        var map = CocoImageIdMap.Create(["9", "009"]);
        Assert.False(map.IsNumeric);
        Assert.Equal(2, map.ToCoco("009"));
    }
}

public sealed class CocoJsonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lookout-cocojson-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Instances = """
        {
          "images": [ {"id": 25, "file_name": "000000000025.jpg", "width": 640, "height": 426},
                      {"id": 9, "file_name": "000000000009.jpg", "width": 640, "height": 480} ],
          "annotations": [
            {"id": 1, "image_id": 9, "category_id": 51, "bbox": [1.08, 187.69, 611.59, 285.84], "area": 120057.13, "iscrowd": 0},
            {"id": 2, "image_id": 25, "category_id": 25, "bbox": [10, 20, 30, 40], "area": 900, "iscrowd": 1}
          ],
          "categories": [ {"id": 51, "name": "bowl"}, {"id": 25, "name": "giraffe"} ]
        }
        """;

    private static MemoryStream Utf8(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void ReadInstances_ReadsImagesAnnotationsAndCategories()
    {
        var ds = CocoJson.ReadInstances(Utf8(Instances));
        Assert.Equal(["9", "25"], ds.Images.Select(i => i.ImageId)); // ascending id, pycocotools' order
        Assert.Equal(new EvaluationImage("9", 640, 480, "000000000009.jpg"), ds.Images[0]);
        Assert.Equal([25, 51], ds.CategoryIds);
        var g = ds.GroundTruths[0];
        Assert.Equal(("9", 51, false, 120057.13), (g.ImageId, g.CategoryId, g.IsCrowd, g.Area));
        Assert.Equal(new BoxXyxy(1.08, 187.69, 1.08 + 611.59, 187.69 + 285.84), g.Box);
        Assert.True(ds.GroundTruths[1].IsCrowd);
    }

    [Fact]
    public void ReadInstances_AnnotationOnUnknownImage_NamesTheSource()
    {
        var json = Instances.Replace("\"image_id\": 25", "\"image_id\": 26");
        var e = Assert.Throws<InvalidDataException>(() => CocoJson.ReadInstances(Utf8(json), "gt.json"));
        Assert.Contains("gt.json", e.Message);
        Assert.Contains("26", e.Message);
    }

    [Fact]
    public void ReadInstances_MalformedJson_IsInvalidDataWithSource()
    {
        var e = Assert.Throws<InvalidDataException>(() => CocoJson.ReadInstances(Utf8("{\"images\": [ {\"id\": "), "bad.json"));
        Assert.StartsWith("bad.json", e.Message);
    }

    [Fact]
    public void Results_WriteThenRead_RoundTripsExactly()
    {
        ScoredDetection[] dets =
        [
            new("9", 1, new BoxXyxy(0.5, 1.25, 100.75, 50.125), 0.123456789012345),
            new("25", 90, new BoxXyxy(3, 4, 5, 6), 0.001),
        ];
        var path = Path.Combine(_dir, "results.json");
        CocoJson.WriteResults(path, dets);
        Assert.Equal(dets, CocoJson.LoadResults(path));
        Assert.StartsWith("[{\"image_id\":9,\"category_id\":1,\"bbox\":[0.5,1.25,100.25,48.875],\"score\":0.123456789012345}",
            File.ReadAllText(path));
    }

    [Fact]
    public void Results_WithImageIdMap_UseIntegerIdsAndMapBack()
    {
        var map = CocoImageIdMap.Create(["dog", "cat"]);
        ScoredDetection[] dets = [new("cat", 3, new BoxXyxy(0, 0, 1, 1), 0.5)];
        var ms = new MemoryStream();
        CocoJson.WriteResults(ms, dets, map);
        Assert.Contains("\"image_id\":2", Encoding.UTF8.GetString(ms.ToArray()));
        ms.Position = 0;
        Assert.Equal(dets, CocoJson.ReadResults(ms, map));
    }

    [Fact]
    public void Instances_WriteThenRead_RoundTrips()
    {
        var ds = CocoJson.ReadInstances(Utf8(Instances));
        var path = Path.Combine(_dir, "instances.json");
        CocoJson.WriteInstances(path, ds);
        var back = CocoJson.LoadInstances(path);
        Assert.Equal(ds.Images, back.Images);
        Assert.Equal(ds.GroundTruths, back.GroundTruths);
        Assert.Equal(ds.Categories, back.Categories);
    }
}

public sealed class YoloLabelsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lookout-yolo-").FullName;
    private string Images => Path.Combine(_dir, "images");
    private string Labels => Path.Combine(_dir, "labels");

    public YoloLabelsTests()
    {
        Directory.CreateDirectory(Images);
        Directory.CreateDirectory(Labels);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int, int) Size(string path) => (640, 480);

    [Fact]
    public void Load_ConvertsNormalisedCentreBoxesToPixels()
    {
        File.WriteAllBytes(Path.Combine(Images, "000000000009.jpg"), []);
        File.WriteAllText(Path.Combine(Labels, "000000000009.txt"), "45 0.5 0.5 0.25 0.5\n\n0 0.125 0.25 0.25 0.5\n");
        var ds = YoloLabels.Load(Images, Labels, Size);
        Assert.Equal([new EvaluationImage("000000000009", 640, 480, "000000000009.jpg")], ds.Images);
        Assert.Equal(
            [new GroundTruth("000000000009", 45, new BoxXyxy(240, 120, 400, 360)),
             new GroundTruth("000000000009", 0, new BoxXyxy(0, 0, 160, 240))],
            ds.GroundTruths);
        Assert.Equal(80, ds.Categories.Count);
        Assert.Equal("person", ds.Categories[0].Name);
    }

    [Fact]
    public void Load_ImageWithoutLabelFile_HasNoObjects_AndNonImagesAreSkipped()
    {
        File.WriteAllBytes(Path.Combine(Images, "b.png"), []);
        File.WriteAllBytes(Path.Combine(Images, "a.jpg"), []);
        File.WriteAllText(Path.Combine(Images, "notes.txt"), "");
        var ds = YoloLabels.Load(Images, Labels, Size);
        Assert.Equal(["a", "b"], ds.Images.Select(i => i.ImageId));
        Assert.Empty(ds.GroundTruths);
    }

    [Fact]
    public void Load_WithCocoIdMapping_UsesCocoCategoryIds()
    {
        File.WriteAllBytes(Path.Combine(Images, "x.jpg"), []);
        File.WriteAllText(Path.Combine(Labels, "x.txt"), "11 0.5 0.5 0.1 0.1\n");
        var ds = YoloLabels.Load(Images, Labels, Size, classToCategoryId: CocoCategories.ToCocoId);
        Assert.Equal(13, Assert.Single(ds.GroundTruths).CategoryId);
        Assert.Equal(CocoCategories.Categories, ds.Categories);
    }

    [Theory]
    [InlineData("0 0.5 0.5 0.1", "expected 5 values")]
    [InlineData("x 0.5 0.5 0.1 0.1", "class id 'x'")]
    [InlineData("80 0.5 0.5 0.1 0.1", "out of range")]
    [InlineData("1 0.5 abc 0.1 0.1", "'abc' is not a number")]
    [InlineData("1 0.5 1.5 0.1 0.1", "not normalised")]
    public void Load_InvalidLine_ReportsFileAndLine(string badLine, string problem)
    {
        File.WriteAllBytes(Path.Combine(Images, "img.jpg"), []);
        string label = Path.Combine(Labels, "img.txt");
        File.WriteAllText(label, "0 0.5 0.5 0.1 0.1\n" + badLine + "\n");
        var e = Assert.Throws<YoloLabelFormatException>(() => YoloLabels.Load(Images, Labels, Size));
        Assert.Equal(label, e.FilePath);
        Assert.Equal(2, e.LineNumber);
        Assert.StartsWith($"{label}:2: ", e.Message);
        Assert.Contains(problem, e.Message);
    }
}

public class CocoEvaluatorPerformanceTests(ITestOutputHelper output)
{
    [Fact]
    public void Coco128SizedEvaluation_IsFast()
    {
        // 128 images, ~930 objects over 80 classes, 30k detections (a 0.001 confidence threshold).
        var rnd = new Random(42);
        var images = Enumerable.Range(0, 128).Select(i => new EvaluationImage(i.ToString(), 640, 480)).ToArray();
        var gts = new List<GroundTruth>();
        var dts = new List<ScoredDetection>();
        BoxXyxy RandomBox()
        {
            double w = 5 + rnd.NextDouble() * 300, h = 5 + rnd.NextDouble() * 300;
            double x = rnd.NextDouble() * (640 - w), y = rnd.NextDouble() * (480 - h);
            return new BoxXyxy(x, y, x + w, y + h);
        }
        for (int n = 0; n < 929; n++)
        {
            var box = RandomBox();
            string img = rnd.Next(128).ToString();
            int cat = rnd.Next(80);
            gts.Add(new GroundTruth(img, cat, box));
            for (int d = 0; d < 3; d++)
                dts.Add(new ScoredDetection(img, cat, box with { X2 = box.X2 + rnd.NextDouble() * 10 }, rnd.NextDouble()));
        }
        while (dts.Count < 30_000)
            dts.Add(new ScoredDetection(rnd.Next(128).ToString(), rnd.Next(80), RandomBox(), rnd.NextDouble() * 0.1));

        CocoEvaluator.Evaluate(images.Take(4).ToArray(), gts.Where(g => g.ImageId == "0").ToArray(),
            dts.Where(d => d.ImageId == "0").ToArray()); // JIT warm-up
        var sw = Stopwatch.StartNew();
        var m = CocoEvaluator.Evaluate(images, gts, dts);
        sw.Stop();
        output.WriteLine($"coco128-sized evaluation: {sw.Elapsed.TotalMilliseconds:F0} ms, AP {m.AP:F4}");
        Assert.True(m.AP > 0);
        // Typically ~100-300 ms; the bound leaves room for a busy shared CI machine.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"took {sw.Elapsed.TotalMilliseconds:F0} ms");
    }
}
