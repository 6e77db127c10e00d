namespace Lookout.Detection.Evaluation;

/// <summary>
/// COCO bounding-box evaluation, a faithful port of pycocotools' <c>COCOeval</c> with
/// <c>iouType='bbox'</c> and default parameters: IoU thresholds 0.50:0.05:0.95, 101 recall thresholds,
/// area ranges all/small/medium/large, maxDets 1/10/100 (per image and per category, as in pycocotools).
/// </summary>
/// <remarks>
/// Differences from running pycocotools on a JSON export are limited to floating-point rounding of
/// box coordinates: boxes here are corners, pycocotools uses [x,y,w,h]; an IoU within ~1e-16 of a
/// threshold may then fall on the other side. Images are evaluated in the order given; pycocotools uses
/// ascending image id. The order only decides how detections of equal score in different images are
/// ranked, so pass images sorted by numeric id (as <see cref="CocoJson.LoadInstances(string)"/> returns
/// them) to reproduce pycocotools bit for bit. Within an image, detections of equal score keep their
/// input order (numpy's stable mergesort), and ground truths keep theirs.
/// </remarks>
public static class CocoEvaluator
{
    private const int T = 10;
    private const int R = 101;
    private const int A = 4;
    private const int M = 3;

    /// <summary>np.spacing(1), the epsilon pycocotools adds to tp+fp.</summary>
    private const double Eps = 2.220446049250313e-16;

    private static readonly double[] IouThrs = Linspace(0.5, 0.95, T);
    private static readonly double[] RecThrs = Linspace(0.0, 1.0, R);
    private static readonly int[] MaxDets = [1, 10, 100];
    private static readonly (double Min, double Max)[] AreaRngs =
        [(0, 1e5 * 1e5), (0, 32 * 32), (32 * 32, 96 * 96), (96 * 96, 1e5 * 1e5)];

    /// <summary>IoU thresholds, exactly as np.linspace(.5, .95, 10) gives them.</summary>
    public static IReadOnlyList<double> IouThresholds => IouThrs;

    /// <summary>Recall thresholds, exactly as np.linspace(0, 1, 101) gives them.</summary>
    public static IReadOnlyList<double> RecallThresholds => RecThrs;

    /// <summary>Area ranges all, small, medium, large (inclusive bounds, in square pixels).</summary>
    public static IReadOnlyList<(double Min, double Max)> AreaRanges => AreaRngs;

    /// <summary>Maximum detections per image and category: 1, 10, 100.</summary>
    public static IReadOnlyList<int> MaxDetections => MaxDets;

    /// <summary>numpy's linspace: i*step + start, last element = stop.</summary>
    internal static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++)
            y[i] = i * step + start;
        y[num - 1] = stop;
        return y;
    }

    /// <summary>Evaluates detections against ground truth like pycocotools' COCOeval (bbox).</summary>
    /// <inheritdoc cref="EvaluateDetailed" path="/param"/>
    /// <inheritdoc cref="EvaluateDetailed" path="/exception"/>
    public static CocoMetrics Evaluate(
        IReadOnlyList<EvaluationImage> images,
        IReadOnlyList<GroundTruth> groundTruths,
        IReadOnlyList<ScoredDetection> detections,
        CocoEvaluationSettings? settings = null) =>
        EvaluateDetailed(images, groundTruths, detections, settings).Metrics;

    /// <summary>Evaluates like <see cref="Evaluate"/> and also returns the matching behind AP50: how each detection and
    /// ground truth was judged at IoU 0.50 and each category's precision–recall points (<see cref="CocoMatches"/>).
    /// Curves, confusion matrices and example images are derived from these, so they agree with the metric.</summary>
    /// <param name="images">All images of the evaluation set (pycocotools' imgIds); images without ground
    /// truth count, their detections are false positives.</param>
    /// <param name="groundTruths">Ground-truth objects; each must refer to an image of <paramref name="images"/>.</param>
    /// <param name="detections">Detections; each must refer to an image of <paramref name="images"/>.</param>
    /// <param name="settings">Options; null for the defaults.</param>
    /// <exception cref="ArgumentException">Duplicate image ids, an unknown image id, or a non-finite box or score.</exception>
    public static CocoEvaluation EvaluateDetailed(
        IReadOnlyList<EvaluationImage> images,
        IReadOnlyList<GroundTruth> groundTruths,
        IReadOnlyList<ScoredDetection> detections,
        CocoEvaluationSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(groundTruths);
        ArgumentNullException.ThrowIfNull(detections);

        var imageIndex = new Dictionary<string, int>(images.Count, StringComparer.Ordinal);
        for (int i = 0; i < images.Count; i++)
        {
            if (!imageIndex.TryAdd(images[i].ImageId, i))
                throw new ArgumentException($"Duplicate image id '{images[i].ImageId}'.", nameof(images));
        }

        int[] catIds = (settings?.CategoryIds ?? groundTruths.Select(g => g.CategoryId).ToArray())
            .Distinct().Order().ToArray();
        int K = catIds.Length;
        var catIndex = new Dictionary<int, int>(K);
        for (int k = 0; k < K; k++) catIndex[catIds[k]] = k;

        // Group by (category, image): everything below is per cell, never across images.
        var cells = new Dictionary<(int K, int I), Cell>();
        var gtCount = new int[K];
        var dtCount = new int[K];
        Cell GetCell(int k, int i)
        {
            if (!cells.TryGetValue((k, i), out var cell))
            {
                cell = new Cell(i);
                cells[(k, i)] = cell;
            }
            return cell;
        }

        for (int n = 0; n < groundTruths.Count; n++)
        {
            var g = groundTruths[n];
            if (!imageIndex.TryGetValue(g.ImageId, out int i))
                throw new ArgumentException($"Ground truth #{n} refers to unknown image '{g.ImageId}'.", nameof(groundTruths));
            if (!g.Box.IsFinite || (g.Area is { } area && !double.IsFinite(area)))
                throw new ArgumentException($"Ground truth #{n} on image '{g.ImageId}' has a non-finite box or area.", nameof(groundTruths));
            if (!catIndex.TryGetValue(g.CategoryId, out int k)) continue;
            var cell = GetCell(k, i);
            cell.Gts.Add(g);
            cell.GtInputIndex.Add(n);
            if (!g.IsCrowd) gtCount[k]++;
        }
        for (int n = 0; n < detections.Count; n++)
        {
            var d = detections[n];
            if (!imageIndex.TryGetValue(d.ImageId, out int i))
                throw new ArgumentException($"Detection #{n} refers to unknown image '{d.ImageId}'.", nameof(detections));
            if (!d.Box.IsFinite || !double.IsFinite(d.Score))
                throw new ArgumentException($"Detection #{n} on image '{d.ImageId}' has a non-finite box or score.", nameof(detections));
            if (!catIndex.TryGetValue(d.CategoryId, out int k)) continue;
            var cell = GetCell(k, i);
            cell.Dts.Add(d);
            cell.DtInputIndex.Add(n);
            dtCount[k]++;
        }

        // Per category, its cells in image order (pycocotools concatenates evalImgs in imgIds order).
        var cellsByCat = new List<Cell>[K];
        for (int k = 0; k < K; k++) cellsByCat[k] = [];
        foreach (var ((k, _), cell) in cells) cellsByCat[k].Add(cell);
        foreach (var list in cellsByCat) list.Sort((a, b) => a.ImageIndex.CompareTo(b.ImageIndex));

        foreach (var cell in cells.Values) EvaluateCell(cell);

        // precision[t, r, k, a, m] and recall[t, k, a, m]; -1 = absent.
        var precision = new double[T, R, K, A, M];
        var recall = new double[T, K, A, M];
        FillMinusOne(precision);
        FillMinusOne(recall);
        var curves = new PrecisionRecallCurve[K];
        Accumulate(cellsByCat, precision, recall, curves);
        for (int k = 0; k < K; k++)
        {
            var q = new double[R];
            for (int r = 0; r < R; r++) q[r] = precision[0, r, k, 0, M - 1];
            curves[k] = (curves[k] ?? new PrecisionRecallCurve(0, 0, [], [], [], [])) with { CategoryId = catIds[k], InterpolatedPrecision = q };
        }

        double ApStat(int? t, int a) => MeanPrecision(precision, t, null, a, M - 1, K);
        double ArStat(int a, int m) => MeanRecall(recall, null, a, m, K);

        var perCategory = new CategoryMetrics[K];
        for (int k = 0; k < K; k++)
        {
            perCategory[k] = new CategoryMetrics(
                catIds[k],
                MeanPrecision(precision, null, k, 0, M - 1, K),
                MeanPrecision(precision, 0, k, 0, M - 1, K),
                MeanPrecision(precision, 5, k, 0, M - 1, K),
                MeanRecall(recall, k, 0, M - 1, K),
                gtCount[k],
                dtCount[k]);
        }

        var metrics = new CocoMetrics(
            ApStat(null, 0), ApStat(0, 0), ApStat(5, 0), ApStat(null, 1), ApStat(null, 2), ApStat(null, 3),
            ArStat(0, 0), ArStat(0, 1), ArStat(0, 2), ArStat(1, 2), ArStat(2, 2), ArStat(3, 2),
            perCategory);

        // The matching at IoU 0.50, area "all", back in the caller's indices.
        var outcomes = new DetectionOutcome[detections.Count];
        var gtOfDt = new int[detections.Count];
        var dtOfGt = new int[groundTruths.Count];
        Array.Fill(gtOfDt, -1);
        Array.Fill(dtOfGt, -1);
        foreach (var cell in cells.Values)
        {
            var all = cell.Areas[0];
            for (int d = 0; d < cell.Scores.Length; d++)
            {
                int input = cell.DtInputIndex[cell.KeptDetections[d]];
                int g = cell.MatchAt50[d];
                outcomes[input] = all.Ignored[d] ? DetectionOutcome.Ignored
                    : all.Matched[d] ? DetectionOutcome.TruePositive : DetectionOutcome.FalsePositive;
                if (g < 0) continue;
                int gtInput = cell.GtInputIndex[g];
                gtOfDt[input] = gtInput;
                if (!cell.Gts[g].IsCrowd) dtOfGt[gtInput] = input;
            }
        }
        return new CocoEvaluation(metrics, new CocoMatches(catIds, outcomes, gtOfDt, dtOfGt, curves));
    }

    private sealed class Cell(int imageIndex)
    {
        public int ImageIndex { get; } = imageIndex;
        public List<GroundTruth> Gts { get; } = [];
        public List<ScoredDetection> Dts { get; } = [];
        public List<int> GtInputIndex { get; } = [];
        public List<int> DtInputIndex { get; } = [];

        /// <summary>Index into <see cref="Dts"/> of each kept detection, in rank order.</summary>
        public int[] KeptDetections { get; set; } = [];

        /// <summary>Per kept detection: the index into <see cref="Gts"/> it matched at IoU 0.50, area "all"; -1 for none.</summary>
        public int[] MatchAt50 { get; set; } = [];

        /// <summary>Scores of the kept detections, descending (at most maxDets[-1]).</summary>
        public double[] Scores { get; set; } = [];

        /// <summary>Per area range: matched[t*D + d], ignored[t*D + d], number of non-ignored gts.</summary>
        public AreaResult[] Areas { get; } = new AreaResult[A];
    }

    private readonly record struct AreaResult(bool[] Matched, bool[] Ignored, int NonIgnoredGts);

    /// <summary>pycocotools' computeIoU + evaluateImg for one image and category, all area ranges.</summary>
    private static void EvaluateCell(Cell cell)
    {
        // Detections: stable sort by descending score, keep maxDets[-1].
        var dtOrder = StableOrderByDescendingScore(cell.Dts.Select(d => d.Score).ToArray());
        int D = Math.Min(dtOrder.Length, MaxDets[M - 1]);
        var dts = new ScoredDetection[D];
        var scores = new double[D];
        for (int d = 0; d < D; d++)
        {
            dts[d] = cell.Dts[dtOrder[d]];
            scores[d] = dts[d].Score;
        }
        cell.Scores = scores;
        cell.KeptDetections = dtOrder[..D];
        cell.MatchAt50 = new int[D];
        Array.Fill(cell.MatchAt50, -1);

        var gts = cell.Gts;
        int G = gts.Count;

        // ious[d, g] with gts in input order.
        var ious = new double[D, G];
        for (int g = 0; g < G; g++)
            for (int d = 0; d < D; d++)
                ious[d, g] = Iou(dts[d].Box, gts[g].Box, gts[g].IsCrowd);

        var dtArea = new double[D];
        for (int d = 0; d < D; d++) dtArea[d] = dts[d].Box.Area;

        var order = new int[G];
        var gtIg = new bool[G];
        var crowdSorted = new bool[G];
        var gtMatched = new bool[G];
        var matchOfDt = new int[D];
        for (int a = 0; a < A; a++)
        {
            var (lo, hi) = AreaRngs[a];
            // Sort gts with ignored ones last (stable).
            int n = 0, nonIgnored = 0;
            for (int g = 0; g < G; g++)
                if (!IsGtIgnored(gts[g], lo, hi)) order[n++] = g;
            nonIgnored = n;
            for (int g = 0; g < G; g++)
                if (IsGtIgnored(gts[g], lo, hi)) order[n++] = g;
            for (int j = 0; j < G; j++)
            {
                gtIg[j] = j >= nonIgnored;
                crowdSorted[j] = gts[order[j]].IsCrowd;
            }

            var matched = new bool[T * D];
            var ignored = new bool[T * D];
            if (D > 0 && G > 0)
            {
                for (int t = 0; t < T; t++)
                {
                    GreedyMatch(ious, D, order, gtIg, crowdSorted, IouThrs[t], gtMatched, matchOfDt);
                    for (int d = 0; d < D; d++)
                    {
                        int m = matchOfDt[d];
                        if (m == -1) continue;
                        ignored[t * D + d] = gtIg[m];
                        matched[t * D + d] = true;
                        if (t == 0 && a == 0) cell.MatchAt50[d] = order[m];
                    }
                }
            }
            // Unmatched detections outside the area range are ignored.
            for (int d = 0; d < D; d++)
            {
                if (dtArea[d] < lo || dtArea[d] > hi)
                {
                    for (int t = 0; t < T; t++)
                        if (!matched[t * D + d]) ignored[t * D + d] = true;
                }
            }
            cell.Areas[a] = new AreaResult(matched, ignored, nonIgnored);
        }
    }

    /// <summary>pycocotools' bbox IoU (maskApi bbIou): for a crowd region, intersection over the detection's area.</summary>
    internal static double Iou(BoxXyxy detection, BoxXyxy groundTruth, bool crowd)
    {
        double w = Math.Min(detection.X2, groundTruth.X2) - Math.Max(detection.X1, groundTruth.X1);
        if (w <= 0) return 0;
        double h = Math.Min(detection.Y2, groundTruth.Y2) - Math.Max(detection.Y1, groundTruth.Y1);
        if (h <= 0) return 0;
        double inter = w * h;
        double da = detection.Area;
        double union = crowd ? da : da + groundTruth.Area - inter;
        return inter / union;
    }

    /// <summary>
    /// pycocotools' evaluateImg matching at one IoU threshold. Detections, in descending score order, each take the
    /// ground truth of highest IoU (at least <paramref name="threshold"/>) that is still free; a crowd region may be
    /// taken any number of times; regular ground truths are preferred to ignored ones (which come last in
    /// <paramref name="order"/>). Greedy by score, so the matches of the detections scored at least s are the same
    /// whether or not the lower-scored ones take part.
    /// </summary>
    /// <param name="ious">ious[d, g], detections in rank order, ground truths in their own order.</param>
    /// <param name="order">Ground truths sorted with the ignored ones last (indices into the second dimension).</param>
    /// <param name="ignoredSorted">Per sorted position: ignored.</param>
    /// <param name="crowdSorted">Per sorted position: a crowd region.</param>
    /// <param name="taken">Scratch, one per ground truth.</param>
    /// <param name="matchOfDt">Output: per detection, the sorted position of the ground truth it took, or -1.</param>
    internal static void GreedyMatch(double[,] ious, int detectionCount, int[] order, bool[] ignoredSorted, bool[] crowdSorted,
        double threshold, bool[] taken, int[] matchOfDt)
    {
        int G = order.Length;
        Array.Clear(taken);
        for (int d = 0; d < detectionCount; d++)
        {
            double iou = Math.Min(threshold, 1 - 1e-10);
            int m = -1;
            for (int j = 0; j < G; j++)
            {
                // already matched and not a crowd: skip
                if (taken[j] && !crowdSorted[j]) continue;
                // matched to a regular gt and reached the ignored ones: stop
                if (m > -1 && !ignoredSorted[m] && ignoredSorted[j]) break;
                double v = ious[d, order[j]];
                if (v < iou) continue;
                iou = v;
                m = j;
            }
            matchOfDt[d] = m;
            if (m > -1) taken[m] = true;
        }
    }

    private static bool IsGtIgnored(GroundTruth g, double lo, double hi)
    {
        double area = g.EffectiveArea;
        return g.IsCrowd || area < lo || area > hi;
    }

    /// <summary>Indices sorted by descending score, ties in index order (numpy argsort(-s, 'mergesort')).</summary>
    private static int[] StableOrderByDescendingScore(double[] scores)
    {
        var idx = new int[scores.Length];
        for (int i = 0; i < idx.Length; i++) idx[i] = i;
        Array.Sort(idx, (x, y) =>
        {
            double sx = scores[x], sy = scores[y];
            if (sx > sy) return -1;
            if (sx < sy) return 1;
            return x.CompareTo(y);
        });
        return idx;
    }

    /// <summary>pycocotools' accumulate().</summary>
    private static void Accumulate(List<Cell>[] cellsByCat, double[,,,,] precision, double[,,,] recall, PrecisionRecallCurve[] curvesAt50)
    {
        var q = new double[R];
        for (int k = 0; k < cellsByCat.Length; k++)
        {
            var cells = cellsByCat[k];
            if (cells.Count == 0) continue;
            for (int m = 0; m < M; m++)
            {
                int maxDet = MaxDets[m];
                // Concatenate the first maxDet detections of every image, then sort globally (stable).
                int total = 0;
                foreach (var c in cells) total += Math.Min(c.Scores.Length, maxDet);
                var allScores = new double[total];
                var cellOf = new int[total];
                var posOf = new int[total];
                int n = 0;
                for (int ci = 0; ci < cells.Count; ci++)
                {
                    int take = Math.Min(cells[ci].Scores.Length, maxDet);
                    for (int d = 0; d < take; d++)
                    {
                        allScores[n] = cells[ci].Scores[d];
                        cellOf[n] = ci;
                        posOf[n] = d;
                        n++;
                    }
                }
                var sorted = StableOrderByDescendingScore(allScores);
                int nd = total;
                var rc = new double[nd];
                var pr = new double[nd];

                for (int a = 0; a < A; a++)
                {
                    int npig = 0;
                    foreach (var c in cells) npig += c.Areas[a].NonIgnoredGts;
                    if (npig == 0) continue;

                    for (int t = 0; t < T; t++)
                    {
                        double tp = 0, fp = 0;
                        for (int j = 0; j < nd; j++)
                        {
                            int s = sorted[j];
                            var c = cells[cellOf[s]];
                            var res = c.Areas[a];
                            int off = t * c.Scores.Length + posOf[s];
                            if (!res.Ignored[off])
                            {
                                if (res.Matched[off]) tp++;
                                else fp++;
                            }
                            rc[j] = tp / npig;
                            pr[j] = tp / (fp + tp + Eps);
                        }
                        recall[t, k, a, m] = nd > 0 ? rc[nd - 1] : 0;
                        if (t == 0 && a == 0 && m == M - 1)
                            curvesAt50[k] = RankedPoints(cells, sorted, cellOf, posOf, rc, pr, npig);

                        for (int i = nd - 1; i > 0; i--)
                            if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];

                        // np.searchsorted(rc, recThrs, side='left'); beyond the end: 0.
                        Array.Clear(q);
                        int p = 0;
                        for (int r = 0; r < R; r++)
                        {
                            while (p < nd && rc[p] < RecThrs[r]) p++;
                            if (p >= nd) break;
                            q[r] = pr[p];
                        }
                        for (int r = 0; r < R; r++) precision[t, r, k, a, m] = q[r];
                    }
                }
            }
        }
    }

    /// <summary>The (score, precision, recall) of each ranked, non-ignored detection at IoU 0.50, area "all", before
    /// the precision envelope is taken.</summary>
    private static PrecisionRecallCurve RankedPoints(List<Cell> cells, int[] sorted, int[] cellOf, int[] posOf,
        double[] rc, double[] pr, int groundTruthCount)
    {
        var scores = new List<double>();
        var precisions = new List<double>();
        var recalls = new List<double>();
        for (int j = 0; j < sorted.Length; j++)
        {
            int s = sorted[j];
            var c = cells[cellOf[s]];
            if (c.Areas[0].Ignored[posOf[s]]) continue; // t = 0 is the first block of the flags
            scores.Add(c.Scores[posOf[s]]);
            precisions.Add(pr[j]);
            recalls.Add(rc[j]);
        }
        return new PrecisionRecallCurve(0, groundTruthCount, scores, precisions, recalls, []);
    }

    private static double MeanPrecision(double[,,,,] precision, int? t, int? k, int a, int m, int K)
    {
        double sum = 0;
        long count = 0;
        int t0 = t ?? 0, t1 = t ?? T - 1;
        int k0 = k ?? 0, k1 = k ?? K - 1;
        for (int ti = t0; ti <= t1; ti++)
            for (int r = 0; r < R; r++)
                for (int ki = k0; ki <= k1; ki++)
                {
                    double v = precision[ti, r, ki, a, m];
                    if (v > -1) { sum += v; count++; }
                }
        return count == 0 ? -1 : sum / count;
    }

    private static double MeanRecall(double[,,,] recall, int? k, int a, int m, int K)
    {
        double sum = 0;
        long count = 0;
        int k0 = k ?? 0, k1 = k ?? K - 1;
        for (int t = 0; t < T; t++)
            for (int ki = k0; ki <= k1; ki++)
            {
                double v = recall[t, ki, a, m];
                if (v > -1) { sum += v; count++; }
            }
        return count == 0 ? -1 : sum / count;
    }

    private static void FillMinusOne(Array array)
    {
        if (array.Length == 0) return;
        ref byte first = ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(array);
        var span = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
            ref System.Runtime.CompilerServices.Unsafe.As<byte, double>(ref first), array.Length);
        span.Fill(-1);
    }
}
