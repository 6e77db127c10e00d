namespace Lookout.Detection.Postprocessing;

/// <summary>A box proposed by a model head, in model-input pixels, before NMS.</summary>
public readonly record struct Candidate(BoundingBox Box, float Score, int ClassId);

public static class NonMaxSuppression
{
    /// <summary>
    /// Greedy class-wise NMS: within each class, keeps the highest-scoring box and drops any later box that
    /// overlaps a kept one by more than <paramref name="iouThreshold"/>. Returns at most
    /// <paramref name="maxDetections"/> candidates sorted by descending score (ties keep input order).
    /// </summary>
    public static List<Candidate> Apply(List<Candidate> candidates, float iouThreshold, int maxDetections)
    {
        var order = candidates.ToArray();
        // A stable sort, so equal scores keep the head's order and results are reproducible.
        var sorted = order.Select((c, i) => (c, i)).OrderByDescending(t => t.c.Score).ThenBy(t => t.i).Select(t => t.c).ToArray();

        var keptByClass = new Dictionary<int, List<BoundingBox>>();
        var kept = new List<Candidate>(Math.Min(sorted.Length, maxDetections));
        foreach (var candidate in sorted)
        {
            if (!keptByClass.TryGetValue(candidate.ClassId, out var sameClass))
                keptByClass[candidate.ClassId] = sameClass = [];
            bool suppressed = false;
            foreach (var other in sameClass)
            {
                if (BoundingBox.IntersectionOverUnion(candidate.Box, other) > iouThreshold)
                {
                    suppressed = true;
                    break;
                }
            }
            if (suppressed) continue;
            sameClass.Add(candidate.Box);
            kept.Add(candidate);
            if (kept.Count == maxDetections) break;
        }
        return kept;
    }
}
