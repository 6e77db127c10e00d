using Lookout.Detection.Evaluation;

namespace Lookout.Detection.Tests.Evaluation;

/// <summary>
/// The curves, outcomes and confusion matrix behind <c>lookout eval --report</c>, on a hand-made case whose every
/// point and count is worked out below, plus the agreement of the all-class PR curve with AP50.
/// </summary>
/// <remarks>
/// Classes car (1), truck (2) and bus (3, never in the ground truth).
/// Image a: car G0 (0,0,50,50), car G1 (100,0,150,50), truck G2 (200,0,250,50).
/// Image b: truck G3 (0,0,50,50), a car crowd region G4 (300,100,400,200).
/// Detections: D0 car on G0 0.9 (TP) · D1 car on the truck G2 0.8 (FP for car) · D2 car inside the crowd 0.7 (ignored)
/// · D3 truck on nothing 0.6 (FP) · D4 car on G1 0.4 (TP) · D5 car on G0 again 0.3 (duplicate: FP) · D6 bus on
/// nothing in b 0.95 (FP).
/// </remarks>
public sealed class EvaluationReportDataTests
{
    private const double Tol = 1e-12;

    private static readonly EvaluationImage[] Images = [new("a", 640, 480), new("b", 640, 480)];
    private static readonly EvaluationCategory[] Categories = [new(1, "car"), new(2, "truck"), new(3, "bus")];

    private static readonly GroundTruth[] Gts =
    [
        new("a", 1, new BoxXyxy(0, 0, 50, 50)),
        new("a", 1, new BoxXyxy(100, 0, 150, 50)),
        new("a", 2, new BoxXyxy(200, 0, 250, 50)),
        new("b", 2, new BoxXyxy(0, 0, 50, 50)),
        new("b", 1, new BoxXyxy(300, 100, 400, 200), IsCrowd: true),
    ];

    private static readonly ScoredDetection[] Dts =
    [
        new("a", 1, new BoxXyxy(0, 0, 50, 50), 0.9),
        new("a", 1, new BoxXyxy(200, 0, 250, 50), 0.8),
        new("b", 1, new BoxXyxy(310, 110, 330, 130), 0.7),
        new("a", 2, new BoxXyxy(400, 300, 450, 350), 0.6),
        new("a", 1, new BoxXyxy(100, 0, 150, 50), 0.4),
        new("a", 1, new BoxXyxy(0, 0, 50, 50), 0.3),
        new("b", 3, new BoxXyxy(500, 400, 560, 460), 0.95),
    ];

    private static CocoEvaluation Evaluate() =>
        CocoEvaluator.EvaluateDetailed(Images, Gts, Dts, new CocoEvaluationSettings { CategoryIds = [1, 2, 3] });

    private static EvaluationCurves Curves(CocoEvaluation e) =>
        EvaluationCurves.Compute(Dts, e, id => Categories.Single(c => c.Id == id).Name);

    private static void Close(double expected, double actual) => Assert.InRange(actual, expected - Tol, expected + Tol);

    [Fact]
    public void Matches_are_the_metrics_own_judgement_of_each_detection_and_object()
    {
        var m = Evaluate().Matches;
        Assert.Equal(
            [DetectionOutcome.TruePositive, DetectionOutcome.FalsePositive, DetectionOutcome.Ignored, DetectionOutcome.FalsePositive,
             DetectionOutcome.TruePositive, DetectionOutcome.FalsePositive, DetectionOutcome.FalsePositive],
            m.DetectionOutcomes);
        Assert.Equal([0, -1, 4, -1, 1, -1, -1], m.GroundTruthOfDetection);
        Assert.Equal([0, 4, -1, -1, -1], m.DetectionOfGroundTruth); // the crowd region is nobody's object
    }

    [Fact]
    public void Precision_recall_points_and_interpolated_curve_are_exact()
    {
        var e = Evaluate();
        var car = e.Matches.Curves[0];
        Assert.Equal(1, car.CategoryId);
        Assert.Equal(2, car.GroundTruthCount);
        // Ranked car detections, the crowd-matched one left out: TP, FP, TP, FP over 2 objects.
        Assert.Equal([0.9, 0.8, 0.4, 0.3], car.Scores);
        Assert.Equal([0.5, 0.5, 1, 1], car.Recall);
        double[] precision = [1, 0.5, 2.0 / 3, 0.5];
        for (int i = 0; i < 4; i++) Close(precision[i], car.Precision[i]);
        // Envelope read at the 101 recall thresholds: 1 up to recall 0.50 (51 points), 2/3 from 0.51 to 1.
        for (int r = 0; r <= 50; r++) Close(1, car.InterpolatedPrecision[r]);
        for (int r = 51; r <= 100; r++) Close(2.0 / 3, car.InterpolatedPrecision[r]);
        Close(253.0 / 303, car.AP50);

        var truck = e.Matches.Curves[1];
        Assert.Equal([0.6], truck.Scores);
        Assert.Equal([0.0], truck.Recall);
        Assert.All(truck.InterpolatedPrecision, p => Assert.Equal(0, p));
        Assert.False(e.Matches.Curves[2].HasGroundTruth); // bus: no objects, AP -1, left out of the mean
        Assert.Equal(-1, e.Matches.Curves[2].AP50);

        var curves = Curves(e);
        for (int r = 0; r <= 50; r++) Close(0.5, curves.AllClassesPrecision[r]);
        for (int r = 51; r <= 100; r++) Close(1.0 / 3, curves.AllClassesPrecision[r]);
        Close(253.0 / 606, e.Metrics.AP50);
        Close(e.Metrics.AP50, curves.AP50);
    }

    [Theory]
    // threshold, TP, FP, precision, recall, F1 over the 4 non-crowd objects (crowd-matched D2 counts neither way)
    [InlineData(0.00, 2, 4, 2.0 / 6, 0.5, 0.4)]
    [InlineData(0.30, 2, 4, 2.0 / 6, 0.5, 0.4)] // D5 scored exactly 0.30 still counts
    [InlineData(0.31, 2, 3, 0.4, 0.5, 4.0 / 9)]
    [InlineData(0.40, 2, 3, 0.4, 0.5, 4.0 / 9)]
    [InlineData(0.41, 1, 3, 0.25, 0.25, 0.25)]
    [InlineData(0.61, 1, 2, 1.0 / 3, 0.25, 2.0 / 7)]
    [InlineData(0.81, 1, 1, 0.5, 0.25, 1.0 / 3)]
    [InlineData(0.91, 0, 1, 0.0, 0.0, 0.0)]
    [InlineData(0.96, 0, 0, double.NaN, 0.0, 0.0)]
    public void F1_curve_holds_the_exact_counts_at_each_threshold(double threshold, int tp, int fp, double precision, double recall, double f1)
    {
        var all = Curves(Evaluate()).AllObjects;
        int j = (int)Math.Round(threshold * 100);
        Assert.Equal(threshold, EvaluationCurves.ScoreThresholds[j]);
        Assert.Equal(4, all.GroundTruthCount);
        Assert.Equal(tp, all.TruePositives[j]);
        Assert.Equal(fp, all.FalsePositives[j]);
        if (double.IsNaN(precision)) Assert.True(double.IsNaN(all.Precision[j]));
        else Close(precision, all.Precision[j]);
        Close(recall, all.Recall[j]);
        Close(f1, all.F1[j]);
    }

    [Fact]
    public void Best_F1_is_the_lowest_threshold_reaching_the_highest_pooled_F1()
    {
        var curves = Curves(Evaluate());
        var best = Assert.IsType<BestF1>(curves.Best);
        Assert.Equal(0.31, best.ScoreThreshold);
        Close(4.0 / 9, best.F1);
        Close(0.4, best.Precision);
        Close(0.5, best.Recall);
        Assert.Equal((2, 3, 4), (best.TruePositives, best.FalsePositives, best.GroundTruthCount));

        var car = curves.Classes.Single(c => c.Name == "car");
        Assert.Equal(5, car.DetectionCount); // the crowd-matched one included: it was evaluated
        Close(2.0 / 3, car.Sweep.Precision[31]);
        Close(1, car.Sweep.Recall[31]);
        Close(0.8, car.Sweep.F1[31]);
    }

    [Fact]
    public void Outcomes_at_a_threshold_split_false_positives_into_confusions_and_false_alarms()
    {
        var e = Evaluate();
        var outcomes = OutcomesAtThreshold.Compute(Images, Gts, Dts, e.Matches, 0.31);
        var a = outcomes.Images[0];
        Assert.Equal([0, 4], a.TruePositives);
        Assert.Equal([new Confusion(1, 2)], a.Confusions); // the car detection on the truck
        Assert.Equal([3], a.FalseAlarms);
        Assert.Empty(a.Missed);
        var b = outcomes.Images[1];
        Assert.Empty(b.TruePositives);
        Assert.Equal([6], b.FalseAlarms);
        Assert.Equal([3], b.Missed);
        Assert.Equal([2], b.Ignored);
        Assert.Equal(2, a.Mistakes);
        Assert.Equal(2, b.Mistakes);

        // Above D4's score, G1 becomes a miss: the greedy matching of the detections above 0.5 alone.
        var half = OutcomesAtThreshold.Compute(Images, Gts, Dts, e.Matches, 0.5).Images[0];
        Assert.Equal([0], half.TruePositives);
        Assert.Equal([1], half.Missed);
    }

    [Fact]
    public void Confusion_matrix_at_the_best_F1_threshold_holds_the_exact_counts()
    {
        var e = Evaluate();
        var outcomes = OutcomesAtThreshold.Compute(Images, Gts, Dts, e.Matches, 0.31);
        var cm = ConfusionMatrix.Compute(outcomes, Gts, Dts, Categories);

        // car and truck have 2 objects each (tie: by id), bus was only predicted; then background.
        Assert.Equal(["car", "truck", "bus", "background"], cm.Labels);
        int[,] expected =
        {
            // predicted: car truck bus background(missed)
            { 2, 0, 0, 0 }, // true car: both found
            { 1, 0, 0, 1 }, // true truck: one called car, one missed
            { 0, 0, 0, 0 }, // true bus: none in the data
            { 0, 1, 1, 0 }, // background: a truck and a bus where there was nothing
        };
        Assert.Equal(expected, cm.Counts);
        Assert.Equal(1, cm.IgnoredDetections);
        Assert.Equal(0.31, cm.ScoreThreshold);
        Close(0.5, cm.Normalized(1, 0));
        Close(0.5, cm.Normalized(1, 3));
        Close(1, cm.Normalized(0, 0));
        Assert.Equal(0, cm.Normalized(2, 2)); // an empty row
        Close(0.5, cm.Normalized(3, 2));
    }

    [Fact]
    public void Confusion_matrix_at_a_low_threshold_counts_the_duplicate_as_a_false_alarm()
    {
        var e = Evaluate();
        var cm = ConfusionMatrix.Compute(OutcomesAtThreshold.Compute(Images, Gts, Dts, e.Matches, 0.25), Gts, Dts, Categories);
        Assert.Equal(["car", "truck", "bus", "background"], cm.Labels);
        Assert.Equal(new[,] { { 2, 0, 0, 0 }, { 1, 0, 0, 1 }, { 0, 0, 0, 0 }, { 1, 1, 1, 0 } }, cm.Counts);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Area_under_the_all_class_PR_curve_agrees_with_AP50(int seed)
    {
        var (dataset, detections) = PycocotoolsCrossCheckTests.SyntheticDataSet(seed);
        var e = CocoEvaluator.EvaluateDetailed(dataset.Images, dataset.GroundTruths, detections,
            new CocoEvaluationSettings { CategoryIds = dataset.CategoryIds });
        var curves = EvaluationCurves.Compute(detections, e, id => $"class{id}");

        // The 101-point rule (mean of the points) is AP50 itself.
        Close(e.Metrics.AP50, curves.AllClassesPrecision.Average());
        // The trapezoidal area over recall 0..1 is 1.01·AP50 − (p(0) + p(1))/200 (the end points weigh half), so it
        // lies within 0.01 of AP50.
        var r = EvaluationCurves.RecallThresholds;
        var p = curves.AllClassesPrecision;
        double area = 0;
        for (int i = 1; i < r.Count; i++) area += (r[i] - r[i - 1]) * (p[i] + p[i - 1]) / 2;
        Close(1.01 * e.Metrics.AP50 - (p[0] + p[^1]) / 200, area);
        Assert.InRange(area, e.Metrics.AP50 - 0.01, e.Metrics.AP50 + 0.01);
        Assert.InRange(e.Metrics.AP50, 0.05, 0.95); // a curve worth comparing, not a degenerate one
    }

    [Fact]
    public void Confusion_matrix_accounts_for_every_object_and_every_kept_detection()
    {
        var (dataset, detections) = PycocotoolsCrossCheckTests.SyntheticDataSet(2);
        var e = CocoEvaluator.EvaluateDetailed(dataset.Images, dataset.GroundTruths, detections,
            new CocoEvaluationSettings { CategoryIds = dataset.CategoryIds });
        foreach (double t in new[] { 0.0, 0.3, 0.6 })
        {
            var cm = ConfusionMatrix.Compute(OutcomesAtThreshold.Compute(dataset.Images, dataset.GroundTruths, detections, e.Matches, t),
                dataset.GroundTruths, detections, dataset.Categories);
            int objects = 0, predicted = 0;
            for (int row = 0; row < cm.Background; row++) objects += cm.RowTotal(row);
            for (int row = 0; row <= cm.Background; row++)
                for (int col = 0; col < cm.Background; col++) predicted += cm.Counts[row, col];
            Assert.Equal(dataset.GroundTruths.Count(g => !g.IsCrowd), objects);
            int evaluated = detections.Where((d, n) => d.Score >= t && e.Matches.DetectionOutcomes[n] is DetectionOutcome.TruePositive or DetectionOutcome.FalsePositive).Count();
            Assert.Equal(evaluated, predicted);
            // Diagonal = true positives of the metric at this threshold.
            int diagonal = 0;
            for (int c = 0; c < cm.Background; c++) diagonal += cm.Counts[c, c];
            Assert.Equal(detections.Where((d, n) => d.Score >= t && e.Matches.DetectionOutcomes[n] == DetectionOutcome.TruePositive).Count(), diagonal);
        }
    }
}
