namespace Lookout.Detection.Tests.Darknet;

internal readonly record struct Detection(int ClassId, float Score, float X1, float Y1, float X2, float Y2)
{
    public float IoU(Detection other)
    {
        float iw = Math.Max(0, Math.Min(X2, other.X2) - Math.Max(X1, other.X1));
        float ih = Math.Max(0, Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1));
        float inter = iw * ih;
        float union = (X2 - X1) * (Y2 - Y1) + (other.X2 - other.X1) * (other.Y2 - other.Y1) - inter;
        return union <= 0 ? 0 : inter / union;
    }

    public override string ToString() => $"class {ClassId} {Score:F3} ({X1:F1},{Y1:F1},{X2:F1},{Y2:F1})";
}

/// <summary>The same postprocessing for both implementations: score = objectness × class
/// probability, threshold, then greedy class-wise NMS.</summary>
internal static class Detections
{
    public const float ScoreThreshold = 0.25f;
    public const float NmsIoU = 0.45f;

    /// <param name="rows">Rows of (cx, cy, w, h, objectness, class values).</param>
    /// <param name="boxScale">Multiplies cx/w and cy/h (OpenCV's boxes are normalised).</param>
    /// <param name="classesAreScores">True when class columns are already objectness × probability (OpenCV).</param>
    public static List<Detection> FromRows(float[] rows, int columns, float boxScaleX, float boxScaleY, bool classesAreScores)
    {
        var candidates = new List<Detection>();
        for (int r = 0; r + columns <= rows.Length; r += columns)
        {
            float obj = rows[r + 4];
            for (int c = 5; c < columns; c++)
            {
                float score = classesAreScores ? rows[r + c] : obj * rows[r + c];
                if (score < ScoreThreshold)
                {
                    continue;
                }

                float cx = rows[r] * boxScaleX, cy = rows[r + 1] * boxScaleY, w = rows[r + 2] * boxScaleX, h = rows[r + 3] * boxScaleY;
                candidates.Add(new Detection(c - 5, score, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2));
            }
        }

        var kept = new List<Detection>();
        foreach (var d in candidates.OrderByDescending(d => d.Score))
        {
            if (!kept.Any(k => k.ClassId == d.ClassId && k.IoU(d) > NmsIoU))
            {
                kept.Add(d);
            }
        }

        return kept;
    }

    public static void AssertSameObjects(List<Detection> ours, List<Detection> opencv, string what)
    {
        string Describe() => $"{what}\n ours:   {string.Join("; ", ours)}\n OpenCV: {string.Join("; ", opencv)}";
        Assert.True(ours.Count == opencv.Count, $"different number of detections. {Describe()}");
        var unmatched = new List<Detection>(opencv);
        foreach (var d in ours)
        {
            var best = unmatched.Where(o => o.ClassId == d.ClassId).OrderByDescending(o => o.IoU(d)).FirstOrDefault();
            Assert.True(unmatched.Contains(best) && best.ClassId == d.ClassId && best.IoU(d) >= 0.98f && Math.Abs(best.Score - d.Score) <= 0.01f,
                $"no OpenCV detection matches {d} with IoU ≥ 0.98 and score within 0.01. {Describe()}");
            unmatched.Remove(best);
        }
    }
}
