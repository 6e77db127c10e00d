namespace Lookout.Detection.Evaluation;

/// <summary>A detection of one class lying on a missed object of another (IoU ≥ 0.50): the model saw the object and
/// named it wrongly. Indices into the evaluation's detections and ground truths.</summary>
public readonly record struct Confusion(int Detection, int GroundTruth);

/// <summary>What one image holds at a score threshold. Indices are those of the detections and ground truths that
/// were evaluated.</summary>
/// <param name="TruePositives">Detections that found an object of their class.</param>
/// <param name="Confusions">Wrong-class detections on a missed object: each is a false positive and its object a miss.</param>
/// <param name="FalseAlarms">The other false positives: detections on no object (or duplicates).</param>
/// <param name="Missed">Objects that neither a detection of their class nor of another class found.</param>
/// <param name="Ignored">Detections on crowd regions (neither right nor wrong).</param>
public sealed record ImageOutcomes(
    string ImageId,
    IReadOnlyList<int> TruePositives,
    IReadOnlyList<Confusion> Confusions,
    IReadOnlyList<int> FalseAlarms,
    IReadOnlyList<int> Missed,
    IReadOnlyList<int> Ignored)
{
    /// <summary>False positives plus missed objects, each wrong-class detection counted once.</summary>
    public int Mistakes => Confusions.Count + FalseAlarms.Count + Missed.Count;
}

/// <summary>
/// The COCO metric's matching (<see cref="CocoMatches"/>, IoU 0.50) seen at one score threshold, image by image: the
/// ground for the confusion matrix and the example images.
/// </summary>
/// <remarks>
/// At threshold s, a true positive is a detection the metric matched with score ≥ s; an object is missed when the
/// detection that matched it scored below s (or none did) — because the matching is greedy by score, that is exactly
/// the matching of the detections scored ≥ s alone. The metric matches within a class only, so a truck called "car"
/// is a false positive for car and a miss for truck. To say which, the false positives and missed objects of each
/// image are paired once more by the same greedy rule (<see cref="CocoEvaluator.GreedyMatch"/>, IoU ≥ 0.50, highest
/// score first, each object once), across classes. The pass cannot pair a detection with a missed object of its own
/// class: the metric would already have matched them.
/// </remarks>
public sealed class OutcomesAtThreshold
{
    private OutcomesAtThreshold(double scoreThreshold, IReadOnlyList<ImageOutcomes> images)
    {
        ScoreThreshold = scoreThreshold;
        Images = images;
    }

    public double ScoreThreshold { get; }

    /// <summary>One entry per image, in the evaluation's image order.</summary>
    public IReadOnlyList<ImageOutcomes> Images { get; }

    public static OutcomesAtThreshold Compute(IReadOnlyList<EvaluationImage> images, IReadOnlyList<GroundTruth> groundTruths,
        IReadOnlyList<ScoredDetection> detections, CocoMatches matches, double scoreThreshold)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(groundTruths);
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(matches);
        if (matches.DetectionOutcomes.Count != detections.Count || matches.DetectionOfGroundTruth.Count != groundTruths.Count)
            throw new ArgumentException("The detections and ground truths are not those of this evaluation.", nameof(matches));
        if (!double.IsFinite(scoreThreshold)) throw new ArgumentOutOfRangeException(nameof(scoreThreshold));

        var evaluated = matches.CategoryIds.ToHashSet();
        var perImage = new Dictionary<string, (List<int> Tp, List<int> Fp, List<int> Missed, List<int> Ignored)>(StringComparer.Ordinal);
        foreach (var image in images) perImage[image.ImageId] = ([], [], [], []);

        for (int n = 0; n < detections.Count; n++)
        {
            var d = detections[n];
            if (d.Score < scoreThreshold) continue;
            var lists = perImage[d.ImageId];
            switch (matches.DetectionOutcomes[n])
            {
                case DetectionOutcome.TruePositive: lists.Tp.Add(n); break;
                case DetectionOutcome.FalsePositive: lists.Fp.Add(n); break;
                case DetectionOutcome.Ignored: lists.Ignored.Add(n); break;
            }
        }
        for (int g = 0; g < groundTruths.Count; g++)
        {
            var gt = groundTruths[g];
            if (gt.IsCrowd || !evaluated.Contains(gt.CategoryId)) continue;
            int by = matches.DetectionOfGroundTruth[g];
            if (by < 0 || detections[by].Score < scoreThreshold) perImage[gt.ImageId].Missed.Add(g);
        }

        var result = new ImageOutcomes[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var (tp, fp, missed, ignored) = perImage[images[i].ImageId];
            result[i] = PairAcrossClasses(images[i].ImageId, tp, fp, missed, ignored, groundTruths, detections);
        }
        return new OutcomesAtThreshold(scoreThreshold, result);
    }

    private static ImageOutcomes PairAcrossClasses(string imageId, List<int> tp, List<int> fp, List<int> missed, List<int> ignored,
        IReadOnlyList<GroundTruth> groundTruths, IReadOnlyList<ScoredDetection> detections)
    {
        if (fp.Count == 0 || missed.Count == 0) return new ImageOutcomes(imageId, tp, [], fp, missed, ignored);

        // Highest score first; equal scores keep input order, as the metric ranks them.
        var ranked = fp.OrderByDescending(n => detections[n].Score).ToArray();
        var ious = new double[ranked.Length, missed.Count];
        for (int d = 0; d < ranked.Length; d++)
            for (int g = 0; g < missed.Count; g++)
                ious[d, g] = CocoEvaluator.Iou(detections[ranked[d]].Box, groundTruths[missed[g]].Box, crowd: false);
        var order = Enumerable.Range(0, missed.Count).ToArray();
        var none = new bool[missed.Count];
        var matchOf = new int[ranked.Length];
        CocoEvaluator.GreedyMatch(ious, ranked.Length, order, none, none, CocoMatches.IouThreshold, new bool[missed.Count], matchOf);

        var confusions = new List<Confusion>();
        var alarms = new List<int>();
        var found = new bool[missed.Count];
        for (int d = 0; d < ranked.Length; d++)
        {
            if (matchOf[d] < 0) { alarms.Add(ranked[d]); continue; }
            confusions.Add(new Confusion(ranked[d], missed[matchOf[d]]));
            found[matchOf[d]] = true;
        }
        var stillMissed = missed.Where((_, g) => !found[g]).ToList();
        alarms.Sort();
        return new ImageOutcomes(imageId, tp, confusions, alarms, stillMissed, ignored);
    }
}
