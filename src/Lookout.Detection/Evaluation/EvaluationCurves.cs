namespace Lookout.Detection.Evaluation;

/// <summary>Precision, recall and F1 of a set of detections at each of <see cref="EvaluationCurves.ScoreThresholds"/>
/// (only detections scored at least the threshold count). Precision is NaN where no detection is left; F1 is 0 where
/// nothing was found.</summary>
public sealed record ThresholdSweep(
    IReadOnlyList<double> Precision,
    IReadOnlyList<double> Recall,
    IReadOnlyList<double> F1,
    IReadOnlyList<int> TruePositives,
    IReadOnlyList<int> FalsePositives,
    int GroundTruthCount);

/// <summary>The score threshold with the highest F1 over all objects, and what it gives.</summary>
public sealed record BestF1(double ScoreThreshold, double F1, double Precision, double Recall, int TruePositives, int FalsePositives, int GroundTruthCount);

/// <summary>One category's curves: its precision–recall at IoU 0.50 and its threshold sweep.</summary>
public sealed record ClassCurves(int CategoryId, string Name, int DetectionCount, PrecisionRecallCurve PrecisionRecall, ThresholdSweep Sweep)
{
    public int GroundTruthCount => PrecisionRecall.GroundTruthCount;
    public double AP50 => PrecisionRecall.AP50;
}

/// <summary>
/// The precision–recall and F1 curves of an evaluation, derived from the COCO metric's own matching
/// (<see cref="CocoMatches"/>: greedy by score, crowd-aware, IoU 0.50), never from a second matcher.
/// </summary>
/// <remarks>
/// <para><b>Precision–recall and AP50.</b> A category's curve is pycocotools' 101-point interpolated precision
/// (<see cref="PrecisionRecallCurve.InterpolatedPrecision"/>): at each recall threshold r = 0, 0.01, …, 1 the best
/// precision reached at recall ≥ r, and 0 beyond the highest recall reached. Its mean over the 101 points is the
/// category's AP50. The all-classes curve <see cref="AllClassesPrecision"/> is, at each r, the mean of those values
/// over the categories that have ground truth, so the mean of its 101 points is exactly the reported AP50 (the mean of
/// the per-category AP50s). The area under it by the trapezoidal rule over recall 0..1 (steps of 0.01) is
/// 0.01·(Σp − (p(0) + p(1))/2) = 1.01·AP50 − (p(0) + p(1))/200, so it differs from AP50 by AP50/100 − (p(0) + p(1))/200:
/// two terms each between 0 and 0.01, hence by at most 0.01 (the 101-point rule weighs the end points fully, the
/// trapezoid by half).</para>
/// <para><b>F1 against the score threshold.</b> At each threshold t of <see cref="ScoreThresholds"/> (0, 0.01, …, 1:
/// the values a user can set as a minimum confidence) only detections with score ≥ t count. The matches need no
/// recomputation: the matching is greedy in descending score, so the matches among the detections scored ≥ t are the
/// same as if the lower-scored ones had never been there. <see cref="AllObjects"/> pools every object of every class
/// (precision = matched detections / detections, recall = found objects / objects), which is what one
/// <c>min_confidence</c> setting does to a camera's stream; detections on crowd regions count neither way, as in the
/// metric. <see cref="Best"/> is the lowest threshold reaching the highest pooled F1.</para>
/// </remarks>
public sealed class EvaluationCurves
{
    /// <summary>0.00, 0.01, …, 1.00 (i/100).</summary>
    public static IReadOnlyList<double> ScoreThresholds { get; } = Enumerable.Range(0, 101).Select(i => i / 100.0).ToArray();

    /// <summary>The recall grid of the precision–recall curves: pycocotools' 101 recall thresholds.</summary>
    public static IReadOnlyList<double> RecallThresholds => CocoEvaluator.RecallThresholds;

    private EvaluationCurves(IReadOnlyList<double> allClassesPrecision, double ap50, ThresholdSweep allObjects, BestF1? best, IReadOnlyList<ClassCurves> classes)
    {
        AllClassesPrecision = allClassesPrecision;
        AP50 = ap50;
        AllObjects = allObjects;
        Best = best;
        Classes = classes;
    }

    /// <summary>Mean over the categories with ground truth of their interpolated precision at each recall threshold.</summary>
    public IReadOnlyList<double> AllClassesPrecision { get; }

    /// <summary>Mean of <see cref="AllClassesPrecision"/>: the AP50 of the metric; -1 without ground truth.</summary>
    public double AP50 { get; }

    /// <summary>Every object of every class pooled.</summary>
    public ThresholdSweep AllObjects { get; }

    /// <summary>The threshold with the best pooled F1; null when no detection matches anything.</summary>
    public BestF1? Best { get; }

    /// <summary>Every evaluated category, ascending id.</summary>
    public IReadOnlyList<ClassCurves> Classes { get; }

    /// <summary>Derives the curves from an evaluation of <paramref name="detections"/>.</summary>
    /// <param name="detections">The detections passed to <see cref="CocoEvaluator.EvaluateDetailed"/>, same order.</param>
    /// <param name="evaluation">Its result.</param>
    /// <param name="categoryName">Name of a category id (for the curves' labels).</param>
    public static EvaluationCurves Compute(IReadOnlyList<ScoredDetection> detections, CocoEvaluation evaluation, Func<int, string> categoryName)
    {
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(evaluation);
        var matches = evaluation.Matches;
        if (matches.DetectionOutcomes.Count != detections.Count)
            throw new ArgumentException("The detections are not those of this evaluation.", nameof(detections));

        int K = matches.CategoryIds.Count, N = ScoreThresholds.Count;
        var index = new Dictionary<int, int>(K);
        for (int k = 0; k < K; k++) index[matches.CategoryIds[k]] = k;

        // Per category and threshold bucket j: detections whose highest passed threshold is j.
        var tpAt = new int[K, N];
        var fpAt = new int[K, N];
        var detectionCount = new int[K];
        for (int n = 0; n < detections.Count; n++)
        {
            var outcome = matches.DetectionOutcomes[n];
            if (outcome is DetectionOutcome.NotEvaluated) continue;
            int k = index[detections[n].CategoryId];
            detectionCount[k]++;
            if (outcome is DetectionOutcome.Ignored) continue;
            int j = HighestPassedThreshold(detections[n].Score);
            if (j < 0) continue;
            if (outcome is DetectionOutcome.TruePositive) tpAt[k, j]++;
            else fpAt[k, j]++;
        }

        var classes = new ClassCurves[K];
        var pooledTp = new int[N];
        var pooledFp = new int[N];
        int pooledGts = 0;
        for (int k = 0; k < K; k++)
        {
            var curve = matches.Curves[k];
            var tp = new int[N];
            var fp = new int[N];
            int runTp = 0, runFp = 0;
            for (int j = N - 1; j >= 0; j--)
            {
                runTp += tpAt[k, j];
                runFp += fpAt[k, j];
                tp[j] = runTp;
                fp[j] = runFp;
                pooledTp[j] += runTp;
                pooledFp[j] += runFp;
            }
            pooledGts += curve.GroundTruthCount;
            classes[k] = new ClassCurves(matches.CategoryIds[k], categoryName(matches.CategoryIds[k]), detectionCount[k], curve,
                Sweep(tp, fp, curve.GroundTruthCount));
        }

        var withGts = classes.Where(c => c.PrecisionRecall.HasGroundTruth).ToArray();
        var allPrecision = new double[RecallThresholds.Count];
        if (withGts.Length > 0)
            for (int r = 0; r < allPrecision.Length; r++)
                allPrecision[r] = withGts.Average(c => c.PrecisionRecall.InterpolatedPrecision[r]);
        else Array.Fill(allPrecision, -1);
        double ap50 = withGts.Length > 0 ? allPrecision.Average() : -1;

        var pooled = Sweep(pooledTp, pooledFp, pooledGts);
        BestF1? best = null;
        for (int j = 0; j < N; j++)
        {
            if (pooled.TruePositives[j] == 0 || (best is not null && pooled.F1[j] <= best.F1)) continue;
            best = new BestF1(ScoreThresholds[j], pooled.F1[j], pooled.Precision[j], pooled.Recall[j],
                pooled.TruePositives[j], pooled.FalsePositives[j], pooledGts);
        }
        return new EvaluationCurves(allPrecision, ap50, pooled, best, classes);
    }

    /// <summary>The index of the highest of <see cref="ScoreThresholds"/> that <paramref name="score"/> reaches (the
    /// sweep point of "score ≥ threshold" for a threshold between grid points); -1 below 0.</summary>
    public static int HighestPassedThreshold(double score)
    {
        var t = ScoreThresholds;
        int j = (int)Math.Clamp(Math.Floor(score * 100), -1, t.Count - 1);
        while (j + 1 < t.Count && t[j + 1] <= score) j++;
        while (j >= 0 && t[j] > score) j--;
        return j;
    }

    private static ThresholdSweep Sweep(int[] tp, int[] fp, int groundTruths)
    {
        int n = tp.Length;
        var precision = new double[n];
        var recall = new double[n];
        var f1 = new double[n];
        for (int j = 0; j < n; j++)
        {
            precision[j] = tp[j] + fp[j] == 0 ? double.NaN : (double)tp[j] / (tp[j] + fp[j]);
            recall[j] = groundTruths == 0 ? double.NaN : (double)tp[j] / groundTruths;
            f1[j] = tp[j] == 0 ? 0 : 2.0 * tp[j] / (2.0 * tp[j] + fp[j] + (groundTruths - tp[j]));
        }
        return new ThresholdSweep(precision, recall, f1, tp, fp, groundTruths);
    }
}
