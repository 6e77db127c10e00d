namespace Lookout.Detection.Evaluation;

/// <summary>What <see cref="CocoEvaluator.EvaluateDetailed"/> returns: the COCO figures and the matching behind AP50.</summary>
public sealed record CocoEvaluation(CocoMetrics Metrics, CocoMatches Matches);

/// <summary>How the COCO metric judged one detection at IoU 0.50 (area "all").</summary>
public enum DetectionOutcome : byte
{
    /// <summary>Not part of the evaluation: a category that is not evaluated, or beyond the 100 best of its image and category.</summary>
    NotEvaluated,
    /// <summary>Matched a ground-truth object of its category.</summary>
    TruePositive,
    /// <summary>Matched nothing: counts against precision.</summary>
    FalsePositive,
    /// <summary>Matched a crowd region: neither right nor wrong, as in pycocotools.</summary>
    Ignored,
}

/// <summary>
/// The matching pycocotools computes for AP50 — IoU 0.50, area "all", at most 100 detections per image and category,
/// greedy by descending score, crowd regions absorbing the detections on them — in the caller's own indices.
/// Everything that reports on an evaluation (precision–recall and F1 curves, the confusion matrix, example images)
/// is derived from this, so no second matcher can disagree with the metric.
/// </summary>
/// <param name="CategoryIds">The evaluated categories, ascending (as <see cref="CocoMetrics.PerCategory"/>).</param>
/// <param name="DetectionOutcomes">Per input detection (same index as the detections passed in).</param>
/// <param name="GroundTruthOfDetection">Per input detection: the ground truth (input index) it matched, crowd regions
/// included; -1 for none.</param>
/// <param name="DetectionOfGroundTruth">Per input ground truth: the detection (input index) that found it; -1 when it
/// was missed, is a crowd region, or is of a category not evaluated.</param>
/// <param name="Curves">Per evaluated category, same order as <paramref name="CategoryIds"/>.</param>
public sealed record CocoMatches(
    IReadOnlyList<int> CategoryIds,
    IReadOnlyList<DetectionOutcome> DetectionOutcomes,
    IReadOnlyList<int> GroundTruthOfDetection,
    IReadOnlyList<int> DetectionOfGroundTruth,
    IReadOnlyList<PrecisionRecallCurve> Curves)
{
    /// <summary>The IoU at which these matches were made.</summary>
    public const double IouThreshold = 0.5;
}

/// <summary>
/// One category's precision–recall at IoU 0.50 as pycocotools' <c>accumulate()</c> builds it: the detections ranked by
/// score over the whole data set (crowd-matched ones left out), with the precision tp/(tp+fp) and recall tp/n after
/// each, and the 101-point interpolated precision whose mean is the category's AP50.
/// </summary>
/// <remarks>
/// <see cref="InterpolatedPrecision"/>[r] is the highest precision reached at any recall ≥ r/100 (the precision
/// envelope, read at the first ranked point whose recall reaches r/100), and 0 beyond the highest recall the detections
/// reach — that is pycocotools' <c>precision[0, :, k, 0, -1]</c>, so its mean is exactly the AP50 of
/// <see cref="CocoMetrics.PerCategory"/>. Precision carries pycocotools' 2.2e-16 in the denominator.
/// All values are -1 for a category without (non-crowd) ground truth.
/// </remarks>
public sealed record PrecisionRecallCurve(
    int CategoryId,
    int GroundTruthCount,
    IReadOnlyList<double> Scores,
    IReadOnlyList<double> Precision,
    IReadOnlyList<double> Recall,
    IReadOnlyList<double> InterpolatedPrecision)
{
    public bool HasGroundTruth => GroundTruthCount > 0;

    /// <summary>Mean of the 101 interpolated precisions: the category's AP50; -1 without ground truth.</summary>
    public double AP50 => HasGroundTruth ? InterpolatedPrecision.Average() : -1;

    /// <summary>Recall after every detection of the category: the end of the curve; 0 without detections.</summary>
    public double MaxRecall => Recall.Count > 0 ? Recall[^1] : 0;
}
