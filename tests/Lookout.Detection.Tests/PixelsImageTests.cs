using Lookout.Detection.Imaging;
using Lookout.Detection.Tests.Support;
using SkiaSharp;

namespace Lookout.Detection.Tests;

/// <summary><see cref="DecodedImage.FromPixels"/>: pixels decoded elsewhere (video frames) enter the one pipeline.</summary>
[Collection(ModelCollection.Name)]
public sealed class PixelsImageTests(ModelFixture fixture)
{
    [Fact]
    public void Pixels_handed_over_give_the_same_detections_as_the_photo_they_came_from()
    {
        var bytes = TestAssets.Bytes("dog.jpg");
        using var decoded = new ImageDecoder().Decode(bytes); // full size, as a frame reader delivers it
        var copy = decoded.Pixels.Copy();
        using var image = DecodedImage.FromPixels(copy);

        var fromPixels = fixture.Detector.Detect(image);
        var fromPhoto = fixture.Detector.Detect(decoded);

        Assert.Equal(ImageFormat.Raw, image.Format);
        Assert.Equal((768, 576), (image.OriginalWidth, image.OriginalHeight));
        Assert.False(image.IsReducedScale);
        Assert.Equal(fromPhoto.Detections, fromPixels.Detections);
        DogReference.AssertMatches(fromPixels);
    }

    [Fact]
    public void Pixels_that_are_not_opaque_rgba_are_refused()
    {
        using var premul = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var bgra = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Bgra8888, SKAlphaType.Opaque));

        Assert.Contains("Rgba8888 and opaque", Assert.Throws<ArgumentException>(() => DecodedImage.FromPixels(premul)).Message);
        Assert.Throws<ArgumentException>(() => DecodedImage.FromPixels(bgra));
    }
}
