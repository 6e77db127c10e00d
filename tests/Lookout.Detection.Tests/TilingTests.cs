using System.Diagnostics;
using Lookout.Detection.Output;
using Lookout.Detection.Tests.Support;
using Lookout.Detection.Tiling;

namespace Lookout.Detection.Tests;

public sealed class TileOptionTests
{
    [Theory]
    [InlineData("off", "off")]
    [InlineData(" AUTO ", "auto")]
    [InlineData("2x2", "2x2")]
    [InlineData("3X4", "3x4")]
    [InlineData("1x2", "1x2")]
    [InlineData(null, "off")]
    public void Accepted_values_parse(string? text, string expected) => Assert.Equal(expected, TileOption.Parse(text).ToString());

    [Theory]
    [InlineData("0x3", "at least 2 tiles")]
    [InlineData("1x1", "at least 2 tiles")]
    [InlineData("17x2", "1 to 16 rows")]
    [InlineData("banana", "'off', 'auto' or rows x columns")]
    [InlineData("2x", "'off', 'auto' or rows x columns")]
    [InlineData("-2x2", "'off', 'auto' or rows x columns")]
    public void Bad_values_are_refused_with_what_is_allowed(string text, string expected)
    {
        Assert.False(TileOption.TryParse(text, out _, out var error));
        Assert.Contains(expected, error);
        Assert.Contains($"'{text}'", error);
    }

    [Fact]
    public void Options_refuse_an_overlap_out_of_range_and_a_grid_over_the_cap()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectionOptions { TileOverlap = 1.5f }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectionOptions { TileOverlap = -0.1f }.Validate());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DetectionOptions { Tile = TileOption.Grid(5, 4), MaxTiles = 16 }.Validate());
        Assert.Contains("20 tiles; at most 16", ex.Message);
    }
}

public sealed class TilePlannerTests
{
    [Fact]
    public void Auto_leaves_photos_near_the_model_input_alone()
    {
        Assert.Empty(TilePlanner.Plan(640, 480, 416, 416, TileOption.Auto, 0.2f, 16));
        Assert.Empty(TilePlanner.Plan(768, 576, 416, 416, TileOption.Auto, 0.2f, 16));
        Assert.Empty(TilePlanner.Plan(2000, 1500, 416, 416, TileOption.Off, 0.2f, 16));
    }

    [Fact]
    public void Auto_tiles_an_enlarged_photo_with_tiles_of_about_the_model_input()
    {
        var tiles = TilePlanner.Plan(1280, 960, 416, 416, TileOption.Auto, 0.2f, 16);
        Assert.Equal(6, tiles.Count); // 2 rows × 3 columns of 493×534: the most tiles that are each at least 416
        AssertCovers(tiles, 1280, 960);
        Assert.All(tiles, t => Assert.InRange(t.Width, 416, 416 * 1.3));
        Assert.All(tiles, t => Assert.InRange(t.Height, 416, 416 * 1.3));
        Assert.Equal(2, TilePlanner.Plan(900, 416, 416, 416, TileOption.Auto, 0.2f, 16).Count);
    }

    [Fact]
    public void Auto_coarsens_its_grid_to_the_cap_and_a_fixed_grid_is_kept()
    {
        var tiles = TilePlanner.Plan(4000, 3000, 416, 416, TileOption.Auto, 0.2f, 16);
        Assert.InRange(tiles.Count, 2, 16);
        AssertCovers(tiles, 4000, 3000);
        Assert.Equal(6, TilePlanner.Plan(4000, 3000, 416, 416, TileOption.Grid(2, 3), 0.2f, 16).Count);
    }

    [Fact]
    public void Tiles_are_never_smaller_than_the_model_input_so_never_enlarged()
    {
        // 4x4 on a 768×576 photo would be 230-pixel tiles; they stay 416 and overlap more instead.
        var tiles = TilePlanner.Plan(768, 576, 416, 416, TileOption.Grid(4, 4), 0.2f, 16);
        Assert.Equal(16, tiles.Count);
        Assert.All(tiles, t => Assert.Equal((416, 416), (t.Width, t.Height)));
        AssertCovers(tiles, 768, 576);
        // An image thinner than the input: the tile is the image's height.
        Assert.All(TilePlanner.Plan(1000, 300, 416, 416, TileOption.Grid(1, 2), 0.2f, 16), t => Assert.Equal(300, t.Height));
    }

    private static void AssertCovers(IReadOnlyList<TileRect> tiles, int width, int height)
    {
        Assert.All(tiles, t => Assert.True(t.X >= 0 && t.Y >= 0 && t.Right <= width && t.Bottom <= height, $"{t} outside {width}×{height}"));
        Assert.Equal(width, tiles.Max(t => t.Right));
        Assert.Equal(height, tiles.Max(t => t.Bottom));
        Assert.Equal(0, tiles.Min(t => t.X));
        Assert.Equal(0, tiles.Min(t => t.Y));
    }
}

public sealed class TileMergingTests
{
    private static readonly TileRect Inner = new(400, 300, 500, 400); // a tile with neighbours on every side

    [Fact]
    public void A_box_cut_by_an_inner_border_or_bigger_than_half_a_tile_is_dropped()
    {
        Assert.True(TileMerging.KeepTileBox(new BoundingBox(500, 400, 600, 500), Inner, 2000, 2000));
        Assert.False(TileMerging.KeepTileBox(new BoundingBox(400, 400, 500, 500), Inner, 2000, 2000)); // touches the left cut
        Assert.False(TileMerging.KeepTileBox(new BoundingBox(800, 400, 899, 500), Inner, 2000, 2000)); // touches the right cut
        Assert.False(TileMerging.KeepTileBox(new BoundingBox(500, 600, 600, 699), Inner, 2000, 2000)); // touches the bottom cut
        Assert.False(TileMerging.KeepTileBox(new BoundingBox(450, 350, 720, 450), Inner, 2000, 2000)); // wider than half the tile
    }

    [Fact]
    public void The_image_border_is_not_a_cut()
    {
        var corner = new TileRect(0, 0, 500, 400);
        Assert.True(TileMerging.KeepTileBox(new BoundingBox(0, 0, 100, 100), corner, 2000, 2000));
        Assert.False(TileMerging.KeepTileBox(new BoundingBox(400, 0, 500, 100), corner, 2000, 2000));
    }

    [Fact]
    public void Greedy_merging_grows_the_keeper_to_the_union_and_keeps_its_score()
    {
        var merged = TileMerging.GreedyMerge(
        [
            new(new BoundingBox(0, 0, 100, 100), 0.9f, 1),
            new(new BoundingBox(10, 10, 120, 90), 0.5f, 1),  // IOS > 0.5: merged
            new(new BoundingBox(0, 0, 100, 100), 0.8f, 2),   // another class: kept
            new(new BoundingBox(300, 300, 400, 400), 0.4f, 1),
        ], 0.5f, 100);
        Assert.Equal(3, merged.Count);
        Assert.Equal(new BoundingBox(0, 0, 120, 100), merged[0].Box);
        Assert.Equal(0.9f, merged[0].Score);
    }
}

[Collection(ModelCollection.Name)]
public sealed class TiledDetectionTests(ModelFixture fixture)
{
    private static readonly DetectionOptions Auto = new() { Tile = TileOption.Auto };

    private static string DetectionsJson(DetectionResult result) =>
        System.Text.Json.JsonSerializer.Serialize(ResultJson.ToDto(result).Detections);

    private static int Found(DetectionResult result, TilingScenes.Pasted o) =>
        result.Detections.Count(d => d.Label == o.Label && BoundingBox.IntersectionOverUnion(d.Box, o.Box) > 0.5f);

    [Fact]
    public void Auto_finds_small_objects_far_apart_on_a_large_canvas_that_one_pass_misses()
    {
        var (jpeg, objects) = TilingScenes.SmallObjectsFarApart();
        var off = fixture.Detector.Detect(jpeg);
        var auto = fixture.Detector.Detect(jpeg, Auto);

        Assert.All(objects, o => Assert.True(Found(off, o) == 0,
            $"one pass already finds the {o.Label} at {o.Box}, so the scene does not test tiling: {DogReference.Describe(off)}"));
        Assert.All(objects, o => Assert.True(Found(auto, o) == 1,
            $"tile=auto should report the {o.Label} at {o.Box} once; got {DogReference.Describe(auto)}"));
        Assert.Equal(1 + fixture.Detector.PlanTiles(2800, 1800, Auto).Count, auto.Timings.Passes);
        Assert.Null(off.Timings.Passes);
        Assert.True(auto.Timings.InferenceMs > off.Timings.InferenceMs, "the tile passes' inference is counted");
    }

    [Theory]
    [InlineData("1x2")]
    [InlineData("2x2")]
    public void An_object_straddling_a_tile_border_is_reported_once(string grid)
    {
        // 1200 wide: two columns of 667-pixel tiles, the first ending at 667 and the second starting at 533.
        var (jpeg, dog) = TilingScenes.DogOnTileBorder(1200, 900, 600, 1.0f);
        var options = new DetectionOptions { Tile = TileOption.Parse(grid) };
        var tiles = fixture.Detector.PlanTiles(1200, 900, options);
        Assert.Contains(tiles, t => t.Right > dog.Box.X1 && t.Right < dog.Box.X2);
        Assert.Contains(tiles, t => t.X > dog.Box.X1 && t.X < dog.Box.X2);

        var result = fixture.Detector.Detect(jpeg, options);
        var dogs = result.Detections.Where(d => d.Label == "dog").ToList();
        Assert.True(dogs.Count == 1, $"expected one dog, got {DogReference.Describe(result)}");
        Assert.True(BoundingBox.IntersectionOverUnion(dogs[0].Box, dog.Box) > 0.7f, $"dog box {dogs[0].Box}, pasted at {dog.Box}");
    }

    [Theory]
    [InlineData("dog.jpg")]
    [InlineData("street.jpg")]
    [InlineData("crosswalk.jpg")]
    public void Tile_off_is_byte_identical_to_a_request_without_tiling(string name)
    {
        var bytes = TestAssets.Bytes(name);
        var plain = DetectionsJson(fixture.Detector.Detect(bytes));
        Assert.Equal(plain, DetectionsJson(fixture.Detector.Detect(bytes, new DetectionOptions { Tile = TileOption.Off, TileOverlap = 0.5f })));
        using var image = fixture.Detector.Decode(bytes, forDrawing: false);
        Assert.Equal(plain, DetectionsJson(fixture.Detector.Detect(image, new DetectionOptions { Tile = TileOption.Off })));
    }

    [Fact]
    public void Auto_on_a_photo_near_the_model_input_is_the_one_pass_answer()
    {
        var bytes = TestAssets.Bytes("dog.jpg");
        var auto = fixture.Detector.Detect(bytes, Auto);
        Assert.Equal(DetectionsJson(fixture.Detector.Detect(bytes)), DetectionsJson(auto));
        Assert.Equal(1, auto.Timings.Passes);
    }

    [Fact]
    public void Cancellation_stops_a_tiled_request_between_and_inside_its_passes()
    {
        var (jpeg, _) = TilingScenes.SmallObjectsFarApart();
        using var image = fixture.Detector.Decode(jpeg, forDrawing: true);
        var options = new DetectionOptions { Tile = TileOption.Grid(4, 4) };
        var full = Stopwatch.StartNew();
        fixture.Detector.Detect(image, options);
        full.Stop();

        // The token fires about a sixth of the way in: the request must stop there rather than finish its 17 passes.
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(1, full.Elapsed.TotalMilliseconds / 6)));
        Assert.ThrowsAny<OperationCanceledException>(() => fixture.Detector.Detect(image, options, cancellationToken: cts.Token));
    }
}
