using Lookout.Detection.Quantization;

namespace Lookout.Detection.Tests.Quantization;

/// <summary>The quantiser's arithmetic on hand-made values, where the right answer is known exactly.</summary>
public sealed class QuantizationPieceTests
{
    [Fact]
    public void Histogram_tracks_exact_extremes_while_its_bins_grow_to_cover_later_values()
    {
        var h = new TensorHistogram();
        h.Add([0f, 1f, 2f, -0.5f]);
        h.Add([100f, -30f]); // beyond the first range: bins double until covered, counts merge, nothing is lost
        Assert.Equal(-30f, h.Min);
        Assert.Equal(100f, h.Max);
        Assert.Equal(6, h.Count);
        Assert.Equal((-30f, 100f), h.PercentileRange(100));
    }

    [Fact]
    public void Percentile_range_drops_a_lone_outlier_and_keeps_the_bulk()
    {
        var h = new TensorHistogram();
        var values = Enumerable.Range(0, 100_000).Select(i => i / 100_000f * 6f).ToList(); // uniform 0..6
        values.Add(500f); // one stray activation
        h.Add(values.ToArray());
        var (low, high) = h.PercentileRange(99.99);
        Assert.Equal(0f, low);
        Assert.InRange(high, 5.9f, 6.5f);
        Assert.Equal(500f, h.PercentileRange(100).High);
    }

    [Fact]
    public void Activation_parameters_represent_zero_exactly_and_span_the_range()
    {
        var p = ActivationParameters.FromRange(-0.28f, 6.1f);
        Assert.Equal((6.1f + 0.28f) / 255f, p.Scale, 6);
        float zero = (p.ZeroPoint - p.ZeroPoint) * p.Scale;
        Assert.Equal(0f, zero);
        Assert.InRange(-p.ZeroPoint * p.Scale, -0.29f, -0.27f); // q = 0 is the low end
        Assert.InRange((255 - p.ZeroPoint) * p.Scale, 6.09f, 6.11f); // q = 255 the high end
        // A range that excludes zero is widened to hold it: a ReLU-like zero stays exact.
        var positive = ActivationParameters.FromRange(2f, 4f);
        Assert.Equal(0, positive.ZeroPoint);
        Assert.Equal(4f / 255f, positive.Scale, 6);
    }

    [Fact]
    public void Sqnr_ranks_a_wide_range_with_small_values_below_a_tight_one()
    {
        // YOLOX-Nano's stem: most values small, a few near ±130, so one uint8 step is ~1 and small values vanish.
        var wide = new TensorHistogram();
        wide.Add([.. Enumerable.Range(0, 10_000).Select(i => (i % 100) / 100f), -130f, 138f]);
        var tight = new TensorHistogram();
        tight.Add([.. Enumerable.Range(0, 10_000).Select(i => (i % 100) / 100f)]);
        Assert.True(wide.SqnrDb(wide.Min, wide.Max) + 20 < tight.SqnrDb(tight.Min, tight.Max));
    }

    [Fact]
    public void Agreement_counts_lost_and_invented_detections_and_the_shift_at_model_input_scale()
    {
        static DetectionResult Result(params Detection[] d) => new("m", 1280, 960, d, new StageTimings(0, 0, 0, 0));
        var reference = Result(
            new Detection(0, "person", 0.9f, new BoundingBox(100, 100, 300, 500)),
            new Detection(16, "dog", 0.6f, new BoundingBox(600, 400, 900, 800)),
            new Detection(2, "car", 0.3f, new BoundingBox(1000, 100, 1200, 200)));
        var candidate = Result(
            new Detection(0, "person", 0.88f, new BoundingBox(102, 100, 302, 500)), // moved 2 px (of 1280) on x
            new Detection(16, "dog", 0.2f, new BoundingBox(600, 400, 900, 800)),    // below 0.25 but above half of it: same object
            new Detection(7, "truck", 0.5f, new BoundingBox(1000, 100, 1200, 200))); // the car became a truck
        var b = new DetectionAgreement.Builder(640, 640, 0.25f);
        b.Add(reference, candidate);
        var a = b.Build();
        Assert.Equal((3, 2), (a.ReferenceDetections, a.ReferenceMatched)); // the car is lost
        Assert.Equal((2, 1), (a.CandidateDetections, a.CandidateMatched)); // the truck is invented; the 0.2 dog is not counted
        Assert.Equal(0.5, a.Matched, 6);
        // Letterbox scale 640/1280 = 0.5: the person's 2 px on two corners average 1 px, so 0.5 px; the dog 0.
        Assert.Equal((0.5 + 0) / 2, a.MeanShiftPx, 6);
    }
}
