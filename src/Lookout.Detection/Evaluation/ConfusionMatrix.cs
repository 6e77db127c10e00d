namespace Lookout.Detection.Evaluation;

/// <summary>
/// A confusion matrix at IoU 0.50 and a score threshold, from <see cref="OutcomesAtThreshold"/> (so from the COCO
/// metric's own matching). Rows are the true class, columns the predicted class; the last row and column are
/// "background": the background column counts missed objects (a true class, nothing predicted), the background row
/// false alarms (something predicted where there was no object of any class, duplicates included). Detections on crowd
/// regions are counted in neither (<see cref="IgnoredDetections"/>).
/// </summary>
/// <remarks>
/// Only classes present are listed, most frequent first: the classes with ground truth by number of objects (then by
/// id), then classes that were only predicted, by number of detections. With 80 COCO classes and a small data set that
/// keeps the matrix to the classes that matter.
/// </remarks>
public sealed class ConfusionMatrix
{
    private ConfusionMatrix(double scoreThreshold, IReadOnlyList<EvaluationCategory> classes, int[,] counts, int ignored)
    {
        ScoreThreshold = scoreThreshold;
        Classes = classes;
        Counts = counts;
        IgnoredDetections = ignored;
    }

    public const string BackgroundLabel = "background";

    public double ScoreThreshold { get; }
    public double IouThreshold => CocoMatches.IouThreshold;

    /// <summary>The classes of the rows and columns, in order; index <see cref="Background"/> is the background.</summary>
    public IReadOnlyList<EvaluationCategory> Classes { get; }

    /// <summary>Index of the background row and column.</summary>
    public int Background => Classes.Count;

    /// <summary>Counts[true, predicted], (classes + 1)² cells; [background, background] is always 0.</summary>
    public int[,] Counts { get; }

    public int IgnoredDetections { get; }

    /// <summary>The row labels (class names, then "background"), which are also the column labels.</summary>
    public IReadOnlyList<string> Labels => [.. Classes.Select(c => c.Name), BackgroundLabel];

    public int RowTotal(int row)
    {
        int sum = 0;
        for (int c = 0; c <= Background; c++) sum += Counts[row, c];
        return sum;
    }

    /// <summary>The cell divided by its row's total: for a class, the share of its objects that went to each
    /// column; for the background row, the share of false alarms per predicted class. 0 for an empty row.</summary>
    public double Normalized(int row, int column)
    {
        int total = RowTotal(row);
        return total == 0 ? 0 : (double)Counts[row, column] / total;
    }

    public static ConfusionMatrix Compute(OutcomesAtThreshold outcomes, IReadOnlyList<GroundTruth> groundTruths,
        IReadOnlyList<ScoredDetection> detections, IReadOnlyList<EvaluationCategory> categories)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var names = categories.GroupBy(c => c.Id).ToDictionary(g => g.Key, g => g.First().Name);

        // Present classes: ground truth by frequency, then predicted-only ones by detection count.
        var gtCount = new Dictionary<int, int>();
        var dtCount = new Dictionary<int, int>();
        foreach (var image in outcomes.Images)
        {
            foreach (var g in image.Missed) Bump(gtCount, groundTruths[g].CategoryId);
            foreach (var c in image.Confusions) { Bump(gtCount, groundTruths[c.GroundTruth].CategoryId); Bump(dtCount, detections[c.Detection].CategoryId); }
            foreach (var d in image.TruePositives) { Bump(gtCount, detections[d].CategoryId); Bump(dtCount, detections[d].CategoryId); }
            foreach (var d in image.FalseAlarms) Bump(dtCount, detections[d].CategoryId);
        }
        var order = gtCount.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => p.Key)
            .Concat(dtCount.Where(p => !gtCount.ContainsKey(p.Key)).OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => p.Key))
            .ToList();
        var at = order.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var classes = order.Select(id => new EvaluationCategory(id, names.GetValueOrDefault(id, id.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToArray();

        int bg = classes.Length;
        var counts = new int[bg + 1, bg + 1];
        int ignored = 0;
        foreach (var image in outcomes.Images)
        {
            foreach (var d in image.TruePositives) { int c = at[detections[d].CategoryId]; counts[c, c]++; }
            foreach (var x in image.Confusions) counts[at[groundTruths[x.GroundTruth].CategoryId], at[detections[x.Detection].CategoryId]]++;
            foreach (var g in image.Missed) counts[at[groundTruths[g].CategoryId], bg]++;
            foreach (var d in image.FalseAlarms) counts[bg, at[detections[d].CategoryId]]++;
            ignored += image.Ignored.Count;
        }
        return new ConfusionMatrix(outcomes.ScoreThreshold, classes, counts, ignored);
    }

    private static void Bump(Dictionary<int, int> counts, int id) => counts[id] = counts.GetValueOrDefault(id) + 1;
}
