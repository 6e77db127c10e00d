using System.Globalization;
using System.Text;
using Lookout.Detection.Darknet;

namespace Lookout.Detection.Tests.Darknet;

/// <summary>Compares our ONNX graph's outputs with OpenCV's for the same cfg, weights and input.</summary>
internal static class DarknetComparison
{
    public const float RelativeTolerance = 1e-3f;

    // OpenCV's yolo layer zeroes objectness × class probability at or below this (its default thresh).
    private const float OpenCvClassThreshold = 0.2f;

    /// <summary>|a - b| ≤ tol·max(|b|, 1): relative for large values, absolute near zero, where
    /// float rounding in two different summation orders leaves no meaningful relative error.</summary>
    public static bool Close(float actual, float expected, float tolerance = RelativeTolerance) =>
        Math.Abs(actual - expected) <= tolerance * Math.Max(Math.Abs(expected), 1f);

    /// <summary>Head k's raw conv output: ours is NCHW (yolo{k}_raw), OpenCV's permute_K is NHWC.</summary>
    public static void AssertRawHeadsMatch(DarknetConfig config, Dictionary<string, Blob> ours, Dictionary<string, Blob> opencv)
    {
        var yoloNames = YoloNames(opencv);
        Assert.Equal(config.YoloLayers.Count(), yoloNames.Count);
        for (int k = 0; k < yoloNames.Count; k++)
        {
            var raw = ours[$"yolo{k}_raw"];
            var cv = opencv[yoloNames[k].Replace("yolo_", "permute_", StringComparison.Ordinal)];
            int c = raw.Shape[1], h = raw.Shape[2], w = raw.Shape[3];
            Assert.Equal([1, h, w, c], cv.Shape);
            var failures = new Failures($"head {k} raw conv output ({c}x{h}x{w})");
            for (int ch = 0; ch < c; ch++)
            {
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        float a = raw.Data[(ch * h + y) * w + x], b = cv.Data[(y * w + x) * c + ch];
                        failures.Check(a, b, Close(a, b), $"c={ch} y={y} x={x}");
                    }
                }
            }

            failures.AssertNone();
            Assert.True(raw.Data.All(float.IsFinite), $"head {k} raw output has non-finite values");
        }
    }

    /// <summary>Our decoded rows (pixels, anchor-major) against OpenCV's yolo rows (normalised,
    /// cell-major, class columns already multiplied by objectness and thresholded).</summary>
    public static void AssertDecodedHeadsMatch(DarknetConfig config, IReadOnlyList<DarknetShape> shapes, Blob ours, Dictionary<string, Blob> opencv)
    {
        var yoloNames = YoloNames(opencv);
        var heads = config.Layers.Select((l, i) => (Layer: l, Index: i)).Where(p => p.Layer is DarknetYoloLayer).ToList();
        int columns = 5 + config.ClassCount, rowOffset = 0;
        Assert.Equal(columns, ours.Shape[2]);
        for (int k = 0; k < heads.Count; k++)
        {
            var yolo = (DarknetYoloLayer)heads[k].Layer;
            var grid = shapes[heads[k].Index];
            int anchors = yolo.Anchors.Count, gh = grid.Height, gw = grid.Width;
            var cv = opencv[yoloNames[k]];
            Assert.Equal([gh * gw * anchors, columns], cv.Shape);
            var failures = new Failures($"head {k} decoded rows");
            for (int a = 0; a < anchors; a++)
            {
                for (int y = 0; y < gh; y++)
                {
                    for (int x = 0; x < gw; x++)
                    {
                        int ourRow = rowOffset + (a * gh + y) * gw + x, cvRow = (y * gw + x) * anchors + a;
                        var o = ours.Data.AsSpan(ourRow * columns, columns);
                        var e = cv.Data.AsSpan(cvRow * columns, columns);
                        string where = $"a={a} y={y} x={x}";
                        float[] scale = [config.Width, config.Height, config.Width, config.Height];
                        for (int j = 0; j < 4; j++)
                        {
                            failures.Check(o[j] / scale[j], e[j], Close(o[j] / scale[j], e[j]), $"{where} box[{j}]");
                        }

                        failures.Check(o[4], e[4], Close(o[4], e[4]), $"{where} objectness");
                        for (int j = 5; j < columns; j++)
                        {
                            float score = o[4] * o[j];
                            // Near OpenCV's cut-off one side may round to zero; that is agreement too.
                            bool ok = Close(score, e[j]) || (e[j] == 0 && score <= OpenCvClassThreshold + RelativeTolerance);
                            failures.Check(score, e[j], ok, $"{where} class {j - 5} score");
                        }
                    }
                }
            }

            failures.AssertNone();
            rowOffset += anchors * gh * gw;
        }

        Assert.Equal(rowOffset, ours.Shape[1]);
    }

    /// <summary>OpenCV's yolo outputs in cfg order (its layer ids grow through the cfg).</summary>
    public static List<string> YoloNames(Dictionary<string, Blob> opencv) =>
        opencv.Keys.Where(n => n.StartsWith("yolo_", StringComparison.Ordinal))
            .OrderBy(n => int.Parse(n["yolo_".Length..], CultureInfo.InvariantCulture)).ToList();

    /// <summary>Counts mismatches and keeps the worst few for the failure message.</summary>
    private sealed class Failures(string what)
    {
        private readonly StringBuilder _examples = new();
        private int _count, _total;
        private float _maxAbs;

        public void Check(float actual, float expected, bool ok, string where)
        {
            _total++;
            _maxAbs = Math.Max(_maxAbs, Math.Abs(expected));
            if (ok)
            {
                return;
            }

            if (_count++ < 10)
            {
                _examples.AppendLine(CultureInfo.InvariantCulture, $"  {where}: ours {actual:G9}, OpenCV {expected:G9}");
            }
        }

        public void AssertNone() => Assert.True(_count == 0,
            $"{what}: {_count} of {_total} values differ by more than {RelativeTolerance}·max(|OpenCV|,1) (largest |OpenCV| value {_maxAbs}):\n{_examples}");
    }
}
