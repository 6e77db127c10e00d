using Lookout.Detection.Evaluation;

namespace Lookout.Detection.Tests.Evaluation;

/// <summary>Hand-made cases whose COCO AP/AR is known by hand. Precision is tp/(tp+fp+eps) as in
/// pycocotools, so "1" is 1-2e-16: comparisons use a 1e-12 tolerance.</summary>
public class CocoEvaluatorTests
{
    private const double Tol = 1e-12;

    private static BoxXyxy B(double x1, double y1, double x2, double y2) => new(x1, y1, x2, y2);
    private static EvaluationImage Img(string id) => new(id, 640, 480);
    private static GroundTruth Gt(string img, BoxXyxy box, int cat = 1, bool crowd = false, double? area = null) =>
        new(img, cat, box, crowd, area);
    private static ScoredDetection Dt(string img, BoxXyxy box, double score, int cat = 1) => new(img, cat, box, score);

    private static CocoMetrics Eval(EvaluationImage[] images, GroundTruth[] gts, ScoredDetection[] dts,
        CocoEvaluationSettings? settings = null) => CocoEvaluator.Evaluate(images, gts, dts, settings);

    private static void Close(double expected, double actual) => Assert.InRange(actual, expected - Tol, expected + Tol);

    // Three separate medium-size objects (50x50 = 2500 px²) in image "a".
    private static readonly BoxXyxy O1 = B(0, 0, 50, 50), O2 = B(100, 0, 150, 50), O3 = B(200, 0, 250, 50);
    private static readonly BoxXyxy Nowhere = B(400, 300, 450, 350);

    [Fact]
    public void Thresholds_AreNumpyLinspaceValues()
    {
        Assert.Equal(10, CocoEvaluator.IouThresholds.Count);
        Assert.Equal(0.5, CocoEvaluator.IouThresholds[0]);
        Assert.Equal(0.75, CocoEvaluator.IouThresholds[5]);
        Assert.Equal(0.8999999999999999, CocoEvaluator.IouThresholds[8]);
        Assert.Equal(0.95, CocoEvaluator.IouThresholds[9]);
        Assert.Equal(101, CocoEvaluator.RecallThresholds.Count);
        Assert.Equal(0.35000000000000003, CocoEvaluator.RecallThresholds[35]);
        Assert.Equal(1.0, CocoEvaluator.RecallThresholds[100]);
    }

    [Fact]
    public void PerfectDetector_GivesOneForEveryStatistic()
    {
        var m = Eval([Img("a"), Img("b")],
            [Gt("a", O1), Gt("a", O2, cat: 2), Gt("b", B(0, 0, 10, 10)), Gt("b", B(0, 0, 200, 200), cat: 2)],
            [Dt("a", O1, 0.9), Dt("a", O2, 0.3, cat: 2), Dt("b", B(0, 0, 10, 10), 0.5), Dt("b", B(0, 0, 200, 200), 0.8, cat: 2)]);
        foreach (var s in m.Stats) Close(1, s);
    }

    [Fact]
    public void FalsePositiveRankedFirst_GivesHandComputed101PointAp()
    {
        // Ranked: FP, TP, TP over 3 gts. rc = [0, 1/3, 2/3], pr = [0, 1/2, 2/3], envelope 2/3 everywhere.
        // Recall thresholds 0.00..0.66 (67 of 101) reach precision 2/3, 0.67..1.00 get 0: AP = 67/101 * 2/3.
        var m = Eval([Img("a")], [Gt("a", O1), Gt("a", O2), Gt("a", O3)],
            [Dt("a", Nowhere, 0.9), Dt("a", O1, 0.8), Dt("a", O2, 0.7)]);
        Close(134.0 / 303, m.AP);
        Close(134.0 / 303, m.AP50);
        Close(134.0 / 303, m.AP75);
        Close(2.0 / 3, m.AR100);
    }

    [Fact]
    public void DuplicateDetection_SecondCountsAsFalsePositive()
    {
        // Ranked: TP(O1), duplicate of O1 = FP, TP(O2) over 2 gts: rc = [.5, .5, 1], pr = [1, .5, 2/3];
        // envelope [1, 2/3, 2/3]; thresholds 0..0.50 (51) → 1, 0.51..1 (50) → 2/3: AP = (51 + 100/3)/101.
        var m = Eval([Img("a")], [Gt("a", O1), Gt("a", O2)],
            [Dt("a", O1, 0.9), Dt("a", O1, 0.8), Dt("a", O2, 0.7)]);
        Close(253.0 / 303, m.AP);
        Close(1, m.AR100);
    }

    [Fact]
    public void CrowdRegion_DetectionsOnItAreIgnoredNotFalsePositives()
    {
        // A 100x100 crowd region; three small detections inside it (IoU with a crowd = inter/det area = 1)
        // all match the same crowd gt and are ignored, so the one real object is found at precision 1.
        var crowd = B(300, 100, 400, 200);
        var m = Eval([Img("a")], [Gt("a", O1), Gt("a", crowd, crowd: true)],
            [Dt("a", B(310, 110, 320, 120), 0.9), Dt("a", B(330, 130, 340, 140), 0.8),
             Dt("a", B(350, 150, 370, 170), 0.7), Dt("a", O1, 0.6)]);
        Close(1, m.AP);
        Close(1, m.AR100);
    }

    [Fact]
    public void CrowdRegion_WithoutCrowdFlag_SameDetectionsAreFalsePositives()
    {
        // Same boxes, not crowd: the region is a normal gt the small boxes barely overlap.
        var region = B(300, 100, 400, 200);
        var m = Eval([Img("a")], [Gt("a", O1), Gt("a", region)],
            [Dt("a", B(310, 110, 320, 120), 0.9), Dt("a", O1, 0.6)]);
        // FP, TP over 2 gts: rc [0, .5], pr [0, .5] → 0.5 for thresholds 0..0.5 (51): AP = 51*0.5/101.
        Close(25.5 / 101, m.AP);
    }

    [Fact]
    public void DetectionMostlyOutsideCrowdRegion_IsFalsePositive()
    {
        // Detection 40x10, only 10x10 of it inside the crowd: inter/det area = 0.25 < 0.5, so a FP ranked first.
        var crowd = B(300, 100, 400, 200);
        var m = Eval([Img("a")], [Gt("a", O1), Gt("a", crowd, crowd: true)],
            [Dt("a", B(390, 150, 430, 160), 0.9), Dt("a", O1, 0.6)]);
        Close(0.5, m.AP);
    }

    [Fact]
    public void ImageWithoutGroundTruth_ItsDetectionsAreFalsePositives()
    {
        // FP on the empty image "b" ranks above the TP: rc [0, 1], pr [0, .5] → AP 0.5.
        var m = Eval([Img("a"), Img("b")], [Gt("a", O1)], [Dt("a", O1, 0.9), Dt("b", O1, 0.95)]);
        Close(0.5, m.AP);
        Close(1, m.AR100);
    }

    [Fact]
    public void ImageWithoutGroundTruthOrDetections_HasNoEffect()
    {
        GroundTruth[] gts = [Gt("a", O1), Gt("a", O2)];
        ScoredDetection[] dts = [Dt("a", Nowhere, 0.9), Dt("a", O1, 0.8)];
        var without = Eval([Img("a")], gts, dts);
        var with = Eval([Img("a"), Img("empty")], gts, dts);
        Assert.Equal(without.Stats, with.Stats);
    }

    [Fact]
    public void IouExactlyHalf_MatchesAt050ButNotAt055()
    {
        // gt 10x10, detection its upper half: IoU = 50/100 = 0.5 exactly.
        var m = Eval([Img("a")], [Gt("a", B(0, 0, 10, 10))], [Dt("a", B(0, 0, 10, 5), 0.9)]);
        Close(1, m.AP50);
        Close(0, m.AP75);
        Close(0.1, m.AP); // 1 of 10 thresholds
        Close(0.1, m.AR100);
    }

    [Fact]
    public void IouExactlyThreeQuarters_MatchesAt075ButNotAt080()
    {
        // gt 4x4, detection 4x3 inside: IoU = 12/16 = 0.75 exactly; thresholds .50 ... .75 match (6 of 10).
        var m = Eval([Img("a")], [Gt("a", B(0, 0, 4, 4))], [Dt("a", B(0, 0, 4, 3), 0.9)]);
        Close(1, m.AP75);
        Close(0.6, m.AP);
    }

    [Fact]
    public void AreaRanges_ClassifyGroundTruthBySize()
    {
        // small 10x10, medium 50x50, large 100x100; only the small one is detected.
        var m = Eval([Img("a")],
            [Gt("a", B(0, 0, 10, 10)), Gt("a", B(100, 100, 150, 150)), Gt("a", B(200, 200, 300, 300))],
            [Dt("a", B(0, 0, 10, 10), 0.9)]);
        Close(1, m.APSmall);
        Close(0, m.APMedium);
        Close(0, m.APLarge);
        Close(1, m.ARSmall);
        Close(0, m.ARMedium);
        Close(0, m.ARLarge);
        Close(34.0 / 101, m.AP); // rc 1/3 at precision 1: thresholds 0..0.33
    }

    [Fact]
    public void AreaExactly32Squared_IsBothSmallAndMedium()
    {
        var m = Eval([Img("a")], [Gt("a", B(0, 0, 32, 32))], [Dt("a", B(0, 0, 32, 32), 0.9)]);
        Close(1, m.APSmall);
        Close(1, m.APMedium);
        Assert.Equal(-1, m.APLarge);
        Assert.Equal(-1, m.ARLarge);
    }

    [Fact]
    public void GroundTruthArea_OverridesBoxAreaForAreaRange()
    {
        // A 10x10 box whose (segmentation) area is 5000 px² counts as medium.
        var m = Eval([Img("a")], [Gt("a", B(0, 0, 10, 10), area: 5000)], [Dt("a", B(0, 0, 10, 10), 0.9)]);
        Assert.Equal(-1, m.APSmall);
        Close(1, m.APMedium);
    }

    [Fact]
    public void UnmatchedDetectionOutsideAreaRange_IsIgnoredForThatRange()
    {
        // A large unmatched detection ranked first: a FP for "all" (AP .5) but ignored for "small".
        var m = Eval([Img("a")], [Gt("a", B(0, 0, 10, 10))],
            [Dt("a", B(200, 200, 400, 400), 0.9), Dt("a", B(0, 0, 10, 10), 0.5)]);
        Close(0.5, m.AP);
        Close(1, m.APSmall);
    }

    [Fact]
    public void MaxDets_TruncatesDetectionsPerImageForAr1AndAr10()
    {
        // 12 objects in one image, each perfectly detected: AR1 = 1/12, AR10 = 10/12, AR100 = 1.
        var gts = Enumerable.Range(0, 12).Select(i => Gt("a", B(i * 50, 0, i * 50 + 40, 40))).ToArray();
        var dts = Enumerable.Range(0, 12).Select(i => Dt("a", B(i * 50, 0, i * 50 + 40, 40), 0.9 - i * 0.01)).ToArray();
        var m = Eval([Img("a")], gts, dts);
        Close(1.0 / 12, m.AR1);
        Close(10.0 / 12, m.AR10);
        Close(1, m.AR100);
    }

    [Fact]
    public void MaxDets_IsPerImage_NotPerDataset()
    {
        // One object per image, two images: AR1 keeps the best detection of each image → 1.
        var m = Eval([Img("a"), Img("b")], [Gt("a", O1), Gt("b", O1)], [Dt("a", O1, 0.9), Dt("b", O1, 0.8)]);
        Close(1, m.AR1);
    }

    [Fact]
    public void MaxDets100_DropsLowestScoredDetectionsOfAnImage()
    {
        // 100 false positives scored above the only true positive: it is the 101st and is cut off.
        var dts = Enumerable.Range(0, 100).Select(i => Dt("a", B(300 + i, 300, 301 + i, 301), 0.9))
            .Append(Dt("a", O1, 0.5)).ToArray();
        var m = Eval([Img("a")], [Gt("a", O1)], dts);
        Close(0, m.AR100);
        Close(0, m.AP);
    }

    [Fact]
    public void CategoryWithoutGroundTruth_IsMinusOneAndExcludedFromMean()
    {
        var m = Eval([Img("a")], [Gt("a", O1, cat: 1)], [Dt("a", O1, 0.9, cat: 1), Dt("a", O2, 0.95, cat: 2)],
            new CocoEvaluationSettings { CategoryIds = [1, 2] });
        Close(1, m.AP);
        var cat2 = Assert.Single(m.PerCategory, c => c.CategoryId == 2);
        Assert.Equal(-1, cat2.AP);
        Assert.Equal(-1, cat2.AP50);
        Assert.Equal(-1, cat2.AR100);
        Assert.Equal(0, cat2.GroundTruthCount);
        Assert.Equal(1, cat2.DetectionCount);
    }

    [Fact]
    public void DefaultCategories_AreThoseOfTheGroundTruth_OtherDetectionsIgnored()
    {
        var m = Eval([Img("a")], [Gt("a", O1, cat: 1)], [Dt("a", O1, 0.9, cat: 1), Dt("a", O2, 0.95, cat: 7)]);
        Close(1, m.AP);
        Assert.Equal([1], m.PerCategory.Select(c => c.CategoryId));
    }

    [Fact]
    public void NoGroundTruthAtAll_AllStatisticsAreMinusOne()
    {
        var m = Eval([Img("a")], [], [Dt("a", O1, 0.9)], new CocoEvaluationSettings { CategoryIds = [1] });
        Assert.All(m.Stats, s => Assert.Equal(-1, s));
    }

    [Fact]
    public void PerCategoryAp_IsComputedPerClassAndAveraged()
    {
        // Class 1 perfect (AP 1); class 2 has a FP ranked first (AP .5); the mean is .75.
        var m = Eval([Img("a")], [Gt("a", O1, cat: 1), Gt("a", O2, cat: 2)],
            [Dt("a", O1, 0.9, cat: 1), Dt("a", Nowhere, 0.8, cat: 2), Dt("a", O2, 0.7, cat: 2)]);
        Assert.Equal([1, 2], m.PerCategory.Select(c => c.CategoryId));
        Close(1, m.PerCategory[0].AP);
        Close(0.5, m.PerCategory[1].AP);
        Close(0.5, m.PerCategory[1].AP50);
        Assert.Equal(1, m.PerCategory[1].GroundTruthCount);
        Assert.Equal(2, m.PerCategory[1].DetectionCount);
        Close(0.75, m.AP);
    }

    [Theory]
    [InlineData(true, 0.5)]
    [InlineData(false, 1.0)]
    public void EqualScores_KeepInputOrder(bool falsePositiveFirst, double expectedAp)
    {
        ScoredDetection fp = Dt("a", Nowhere, 0.5), tp = Dt("a", O1, 0.5);
        var m = Eval([Img("a")], [Gt("a", O1)], falsePositiveFirst ? [fp, tp] : [tp, fp]);
        Close(expectedAp, m.AP);
    }

    [Fact]
    public void DetectionOnUnknownImage_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Eval([Img("a")], [Gt("a", O1)], [Dt("zzz", O1, 0.9)]));
        Assert.Contains("zzz", e.Message);
    }

    [Fact]
    public void DuplicateImageId_Throws()
    {
        Assert.Throws<ArgumentException>(() => Eval([Img("a"), Img("a")], [], []));
    }

    [Fact]
    public void NonFiniteScore_Throws()
    {
        Assert.Throws<ArgumentException>(() => Eval([Img("a")], [Gt("a", O1)], [Dt("a", O1, double.NaN)]));
    }

    [Fact]
    public void FormatSummary_HasTwelvePycocotoolsStyleLines()
    {
        var m = Eval([Img("a")], [Gt("a", O1)], [Dt("a", O1, 0.9)]);
        var lines = m.FormatSummary().TrimEnd('\n').Split('\n');
        Assert.Equal(12, lines.Length);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000", lines[0]);
        Assert.Equal(" Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000", lines[9]);
    }
}
