using Lookout.Detection.Imaging;
using Lookout.Detection.Tests.Support;
using SkiaSharp;

namespace Lookout.Detection.Tests;

/// <summary>The one place a model input is made: decode scale by rule, filter by rule, whole image or a region.</summary>
[Collection(ModelCollection.Name)]
public sealed class ModelInputTests(ModelFixture fixture)
{
    private static SKBitmap Checkerboard(int width, int height, int cell)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, ((x / cell) + (y / cell)) % 2 == 0 ? SKColors.Black : SKColors.White);
        return bitmap;
    }

    [Fact]
    public void Area_filter_averages_a_fine_checkerboard_to_grey_where_bilinear_aliases()
    {
        // 1-pixel cells shrunk 3.2×: every output pixel of a box filter covers about half black, half white.
        using var board = Checkerboard(1331, 1331, 1);
        var area = new float[3 * 416 * 416];
        var bilinear = new float[3 * 416 * 416];
        var whole = new SKRectI(0, 0, board.Width, board.Height);
        TensorWriter.Write(board, whole, 416, 416, PreprocessSpec.Yolox, ResizeFilter.Area, area);
        TensorWriter.Write(board, whole, 416, 416, PreprocessSpec.Yolox, ResizeFilter.Bilinear, bilinear);

        Assert.All(area, v => Assert.InRange(v, 127.5f - 12, 127.5f + 12));
        Assert.Contains(bilinear, v => v is < 40 or > 215);
    }

    [Fact]
    public void Area_filter_keeps_a_flat_colour_exactly()
    {
        using var flat = new SKBitmap(new SKImageInfo(1000, 700, SKColorType.Rgba8888, SKAlphaType.Opaque));
        flat.Erase(new SKColor(10, 120, 230));
        var tensor = new float[3 * 416 * 416];
        var box = TensorWriter.Write(flat, new SKRectI(0, 0, 1000, 700), 416, 416, PreprocessSpec.Yolox, ResizeFilter.Area, tensor);

        int plane = 416 * 416;
        for (int y = 0; y < box.ResizedHeight; y++)
            for (int x = 0; x < box.ResizedWidth; x++)
            {
                int i = y * 416 + x;
                Assert.Equal((230f, 120f, 10f), (MathF.Round(tensor[i], 3), MathF.Round(tensor[plane + i], 3), MathF.Round(tensor[2 * plane + i], 3)));
            }
        Assert.Equal(114f, tensor[(415 * 416) + 10]); // padding below the image (top-left letterbox)
    }

    [Theory]
    [InlineData(ResizeFilter.Bilinear)]
    [InlineData(ResizeFilter.Area)]
    public void A_region_is_written_as_if_it_were_cropped_first(ResizeFilter filter)
    {
        using var photo = ImageFactory.DecodeRgba(TestAssets.Bytes("street.jpg"));
        var region = new SKRectI(700, 400, 1500, 1100);
        using var cropped = new SKBitmap(new SKImageInfo(region.Width, region.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        Assert.True(photo.ExtractSubset(cropped, region));
        using var copy = cropped.Copy();
        var fromRegion = new float[3 * 416 * 416];
        var fromCrop = new float[3 * 416 * 416];

        var a = TensorWriter.Write(photo, region, 416, 416, PreprocessSpec.Yolox, filter, fromRegion);
        var b = TensorWriter.Write(copy, new SKRectI(0, 0, copy.Width, copy.Height), 416, 416, PreprocessSpec.Yolox, filter, fromCrop);

        Assert.Equal(b, a);
        Assert.Equal(fromCrop, fromRegion);
    }

    [Fact]
    public void Detect_region_over_the_whole_image_is_the_whole_image_pass_and_a_crop_maps_back_to_original_pixels()
    {
        var bytes = TestAssets.Bytes("street.jpg");
        var halving = new Detector(fixture.Model, inputRule: ModelInputRule.HalvingArea);
        using var image = halving.DecodeForModel(bytes);
        Assert.True(image.IsReducedScale);

        var whole = halving.Detect(image);
        var region = halving.DetectRegion(image, new SKRectI(0, 0, 2380, 1580));
        Assert.Equal(whole.Detections, region.Detections);

        // The right half at full resolution: the car at the right edge is found there, in original pixels.
        using var full = fixture.DefaultDetector.DecodeFull(bytes);
        var right = fixture.DefaultDetector.DetectRegion(full, new SKRectI(1190, 0, 2380, 1580));
        Assert.Contains(right.Detections, d => d.Label == "car" && d.Score > 0.5f && d.Box.X1 > 2000 && d.Box.X2 > 2300);
        Assert.All(right.Detections, d => Assert.True(d.Box.X1 >= 1190 - 1, $"{d.Label} at {d.Box} lies left of the region"));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.DefaultDetector.DetectRegion(full, new SKRectI(0, 0, 2381, 100)));
    }

    [Theory]
    [InlineData("full-area")]
    [InlineData("dct-halving-bilinear")]
    [InlineData("dct-eighths-area")]
    public void Annotating_does_not_change_the_detections(string rule)
    {
        var bytes = TestAssets.Bytes("street.jpg");
        var detector = new Detector(fixture.Model, inputRule: ModelInputRule.Parse(rule));
        var plain = detector.Detect(bytes);
        var annotated = detector.DetectAndAnnotate(bytes, fixture.Renderer);

        Assert.Equal(plain.Detections, annotated.Result.Detections);
        var (_, w, h, _) = fixture.Detector.Decoder.ReadHeader(annotated.AnnotatedJpeg);
        Assert.Equal((2380, 1580), (w, h));
    }

    [Fact]
    public void The_default_rule_is_full_decode_with_the_area_filter_for_yolox_and_finds_the_reference_objects()
    {
        // Chosen by AP per family (docs/large-photos.md). The references were made with a bilinear shrink; the area
        // filter moves scores by a few hundredths and may keep the bicycle's near-tied wider box.
        Assert.Equal(ModelInputRule.FullArea, ModelInputRule.For("yolox"));
        Assert.Equal(ModelInputRule.HalvingBilinear, ModelInputRule.For("ultralytics"));
        Assert.Equal(ModelInputRule.HalvingBilinear, ModelInputRule.For("darknet"));
        Assert.Equal(ModelInputRule.FullArea, fixture.DefaultDetector.InputRule);
        var result = fixture.DefaultDetector.Detect(TestAssets.Bytes("dog.jpg"));
        DogReference.AssertMatches(result, scoreTolerance: 0.06f, minIou: 0.9f);
    }

    [Theory]
    [InlineData(JpegScaleSteps.PowersOfTwo, 595)]
    [InlineData(JpegScaleSteps.Eighths, 595)]
    [InlineData(JpegScaleSteps.None, 2380)]
    public void Jpeg_scale_steps_pick_the_smallest_allowed_scale_that_covers_the_model(JpegScaleSteps steps, int expectedWidth)
    {
        using var image = new ImageDecoder().Decode(TestAssets.Bytes("street.jpg"), 416, steps);
        Assert.Equal(expectedWidth, image.Width);
        using var dog = new ImageDecoder().Decode(TestAssets.Bytes("dog.jpg"), 416, steps);
        // 768 px: halving cannot go below full size (1/2 = 384 < 416); eighths stop at 5/8 = 480.
        Assert.Equal(steps == JpegScaleSteps.Eighths ? 480 : 768, dog.Width);
    }
}
