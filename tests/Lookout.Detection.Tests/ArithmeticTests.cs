using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Postprocessing;

namespace Lookout.Detection.Tests;

public sealed class IouTests
{
    [Fact]
    public void Identical_boxes_have_iou_one() =>
        Assert.Equal(1f, BoundingBox.IntersectionOverUnion(new(0, 0, 10, 10), new(0, 0, 10, 10)));

    [Fact]
    public void Disjoint_and_touching_boxes_have_iou_zero()
    {
        Assert.Equal(0f, BoundingBox.IntersectionOverUnion(new(0, 0, 10, 10), new(20, 20, 30, 30)));
        Assert.Equal(0f, BoundingBox.IntersectionOverUnion(new(0, 0, 10, 10), new(10, 0, 20, 10)));
    }

    [Fact]
    public void Half_overlap_has_iou_one_third() =>
        // Intersection 50, union 150.
        Assert.Equal(1f / 3f, BoundingBox.IntersectionOverUnion(new(0, 0, 10, 10), new(5, 0, 15, 10)), 6);

    [Fact]
    public void Degenerate_box_has_iou_zero() =>
        Assert.Equal(0f, BoundingBox.IntersectionOverUnion(new(5, 5, 5, 5), new(0, 0, 10, 10)));
}

public sealed class NmsTests
{
    private static Candidate C(float x1, float score, int cls = 0) => new(new BoundingBox(x1, 0, x1 + 10, 10), score, cls);

    [Fact]
    public void Overlapping_box_of_the_same_class_is_suppressed()
    {
        // IoU of [0,10] and [1,11] is 9/11 ≈ 0.82.
        var kept = NonMaxSuppression.Apply([C(1, 0.8f), C(0, 0.9f)], 0.45f, 100);
        Assert.Equal([0.9f], kept.Select(k => k.Score));
    }

    [Fact]
    public void Overlapping_boxes_of_different_classes_are_both_kept()
    {
        var kept = NonMaxSuppression.Apply([C(0, 0.9f, cls: 0), C(1, 0.8f, cls: 1)], 0.45f, 100);
        Assert.Equal(2, kept.Count);
    }

    [Fact]
    public void Box_overlapping_exactly_at_the_threshold_is_kept()
    {
        // [0,10] vs [5,15]: IoU exactly 1/3. NMS drops only IoU strictly above the threshold.
        var kept = NonMaxSuppression.Apply([C(0, 0.9f), C(5, 0.8f)], 1f / 3f, 100);
        Assert.Equal(2, kept.Count);
    }

    [Fact]
    public void Suppression_is_greedy_by_score_not_by_input_order()
    {
        // b overlaps both a and c; a and c do not overlap. With b first, b wins and removes both neighbours.
        var a = C(0, 0.7f); var b = C(3, 0.9f); var c = C(6, 0.6f);
        var kept = NonMaxSuppression.Apply([a, c, b], 0.3f, 100);
        Assert.Equal([0.9f], kept.Select(k => k.Score));
    }

    [Fact]
    public void Result_is_sorted_and_capped_at_max_detections()
    {
        var kept = NonMaxSuppression.Apply([C(0, 0.2f), C(100, 0.9f), C(200, 0.5f), C(300, 0.7f)], 0.45f, 3);
        Assert.Equal([0.9f, 0.7f, 0.5f], kept.Select(k => k.Score));
    }

    [Fact]
    public void Empty_input_gives_empty_output() => Assert.Empty(NonMaxSuppression.Apply([], 0.45f, 10));
}

public sealed class LetterboxTests
{
    [Theory]
    [InlineData(LetterboxAlignment.TopLeft)]
    [InlineData(LetterboxAlignment.Centered)]
    [InlineData(LetterboxAlignment.CenteredDarknet)]
    public void Mapping_round_trips(LetterboxAlignment alignment)
    {
        foreach (var (w, h) in new[] { (768, 576), (2380, 1580), (576, 768), (416, 416), (100, 1000), (1, 1) })
        {
            var box = Letterbox.Compute(w, h, 416, 416, alignment);
            foreach (var (x, y) in new[] { (0f, 0f), (w, h), (w / 3f, h / 7f) })
            {
                var (tx, ty) = box.ToTarget(x, y);
                var (sx, sy) = box.ToSource(tx, ty);
                Assert.Equal(x, sx, 2);
                Assert.Equal(y, sy, 2);
            }
        }
    }

    [Fact]
    public void Yolox_places_the_image_top_left_with_truncated_size()
    {
        var box = Letterbox.Compute(768, 576, 416, 416, LetterboxAlignment.TopLeft);
        Assert.Equal((416, 312, 0, 0), (box.ResizedWidth, box.ResizedHeight, box.PadLeft, box.PadTop));
    }

    [Fact]
    public void Ultralytics_centres_the_image_with_rounded_padding()
    {
        // 768×576 → 640×480, 160 rows of padding split 80/80.
        var box = Letterbox.Compute(768, 576, 640, 640, LetterboxAlignment.Centered);
        Assert.Equal((640, 480, 0, 80), (box.ResizedWidth, box.ResizedHeight, box.PadLeft, box.PadTop));
        // An odd split: 416 - 313 = 103 → top round(51.5 - 0.1) = 51.
        var odd = Letterbox.Compute(1000, 752, 416, 416, LetterboxAlignment.Centered);
        Assert.Equal((416, 313, 51), (odd.ResizedWidth, odd.ResizedHeight, odd.PadTop));
    }

    [Fact]
    public void Corners_of_the_resized_region_map_to_the_image_corners()
    {
        var box = Letterbox.Compute(2380, 1580, 416, 416, LetterboxAlignment.Centered);
        var (x, y) = box.ToSource(box.PadLeft + box.ResizedWidth, box.PadTop + box.ResizedHeight);
        Assert.Equal(2380, x, 1);
        Assert.Equal(1580, y, 1);
    }
}

public sealed class ModelHeadTests
{
    [Fact]
    public void Yolox_head_decodes_grid_offsets_and_strides()
    {
        // 32×32 input: grids 4×4 (s8), 2×2 (s16), 1×1 (s32) → 21 rows of 5 + 2 classes.
        var head = new YoloxHead(2, 32, 32, [8, 16, 32]);
        var output = new float[21 * 7];
        // Row 5 is the stride-8 cell (x=1, y=1): tx=0.5, ty=0.25, tw=th=ln 2 → centre (12, 10), size 16×16.
        Set(output, 5, 7, [0.5f, 0.25f, MathF.Log(2), MathF.Log(2), 0.9f, 0.1f, 0.8f]);
        var sink = new List<Candidate>();

        head.Decode(output, 0.25f, null, sink);

        var c = Assert.Single(sink);
        Assert.Equal(1, c.ClassId);
        Assert.Equal(0.72f, c.Score, 5);
        Assert.Equal(new BoundingBox(4, 2, 20, 18), c.Box);
    }

    [Fact]
    public void Yolox_head_uses_the_last_grid_for_stride_32()
    {
        var head = new YoloxHead(1, 32, 32, [8, 16, 32]);
        var output = new float[21 * 6];
        Set(output, 20, 6, [0, 0, 0, 0, 1f, 1f]); // the single stride-32 cell: centre (0,0)·32, size e⁰·32
        var sink = new List<Candidate>();
        head.Decode(output, 0.5f, null, sink);
        Assert.Equal(new BoundingBox(-16, -16, 16, 16), Assert.Single(sink).Box);
    }

    [Fact]
    public void Objectness_rows_head_multiplies_objectness_and_class()
    {
        var head = new ObjectnessRowsHead(3, 2);
        float[] output = [10, 20, 4, 8, 0.5f, 0.2f, 0.9f, 0.1f, /* row 2 below threshold */ 0, 0, 1, 1, 0.2f, 1, 1, 1];
        var sink = new List<Candidate>();

        head.Decode(output, 0.3f, null, sink);

        var c = Assert.Single(sink);
        Assert.Equal((1, 0.45f), (c.ClassId, c.Score));
        Assert.Equal(new BoundingBox(8, 16, 12, 24), c.Box);
    }

    [Fact]
    public void Class_filter_picks_the_best_allowed_class()
    {
        var head = new ObjectnessRowsHead(3, 1);
        float[] output = [10, 20, 4, 8, 1f, 0.2f, 0.9f, 0.4f];
        var sink = new List<Candidate>();
        head.Decode(output, 0.3f, new HashSet<int> { 0, 2 }, sink);
        Assert.Equal((2, 0.4f), (Assert.Single(sink).ClassId, sink[0].Score));
    }

    [Fact]
    public void Channel_major_head_reads_planes()
    {
        // [1, 4+2, 3]: anchor 2 has class 0 score 0.7 at centre (30, 40) size 10×20.
        var head = new ChannelMajorHead(2, 3);
        float[] output =
        [
            0, 0, 30,   // cx
            0, 0, 40,   // cy
            0, 0, 10,   // w
            0, 0, 20,   // h
            0.1f, 0.2f, 0.7f, // class 0
            0.1f, 0.1f, 0.3f, // class 1
        ];
        var sink = new List<Candidate>();

        head.Decode(output, 0.25f, null, sink);

        var c = Assert.Single(sink);
        Assert.Equal((0, 0.7f), (c.ClassId, c.Score));
        Assert.Equal(new BoundingBox(25, 30, 35, 50), c.Box);
    }

    [Fact]
    public void End_to_end_head_reads_corner_boxes_and_needs_no_nms()
    {
        var head = new EndToEndHead(80, 2);
        float[] output = [1, 2, 3, 4, 0.9f, 16, 0, 0, 0, 0, 0.1f, 3];
        var sink = new List<Candidate>();
        head.Decode(output, 0.25f, null, sink);
        Assert.False(head.NeedsNms);
        Assert.Equal(new Candidate(new BoundingBox(1, 2, 3, 4), 0.9f, 16), Assert.Single(sink));
    }

    [Theory]
    [InlineData(new long[] { 1, 3549, 85 }, null, typeof(YoloxHead), 80)]
    [InlineData(new long[] { 1, 10647, 85 }, null, typeof(ObjectnessRowsHead), 80)]
    [InlineData(new long[] { 1, 84, 3549 }, null, typeof(ChannelMajorHead), 80)]
    [InlineData(new long[] { 1, 300, 6 }, null, typeof(EndToEndHead), 80)]
    [InlineData(new long[] { 1, 6300, 85 }, "darknet", typeof(ObjectnessRowsHead), 80)]
    public void Layouts_are_recognised_from_the_output_shape(long[] shape, string? family, Type expected, int classes)
    {
        var head = OutputLayout.Recognise(shape, 416, 416, family);
        Assert.IsType(expected, head);
        Assert.Equal(classes, head.ClassCount);
    }

    [Fact]
    public void Unknown_layout_is_refused_with_what_was_found()
    {
        var error = Assert.Throws<UnsupportedModelException>(() => OutputLayout.Recognise([1, 1000, 1000, 3], 416, 416, null));
        Assert.Contains("[1,1000,1000,3]", error.Message);
        Assert.Contains("YOLOX", error.Message);
    }

    private static void Set(float[] output, int row, int rowLength, float[] values) => values.CopyTo(output, row * rowLength);
}

public sealed class ClassNameTests
{
    [Fact]
    public void Ultralytics_names_metadata_is_parsed()
    {
        var names = ClassNames.ParseUltralyticsNames("{0: 'person', 1: \"traffic light\", 2: 'o\\'clock'}");
        Assert.Equal(["person", "traffic light", "o'clock"], names);
    }

    [Fact]
    public void Missing_names_fall_back_to_coco_for_80_classes_and_generic_names_otherwise()
    {
        Assert.Same(ClassNames.Coco, ClassNames.Fit(null, 80));
        Assert.Equal(["class 0", "class 1"], ClassNames.Fit(null, 2));
        Assert.Equal("dog", ClassNames.Coco[16]);
    }
}
