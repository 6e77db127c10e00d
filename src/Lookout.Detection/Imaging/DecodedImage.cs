using SkiaSharp;

namespace Lookout.Detection.Imaging;

/// <summary>
/// Upright, opaque RGBA pixels ready for a model, plus the facts needed to report boxes in the coordinates of the
/// full-resolution upright image. <see cref="Pixels"/> may be smaller than the original when the decoder used a
/// reduced-scale decode; <see cref="ScaleToOriginal"/> maps its coordinates back.
/// </summary>
public sealed class DecodedImage : IDisposable
{
    internal DecodedImage(SKBitmap pixels, int originalWidth, int originalHeight, ImageFormat format, int exifOrientation)
    {
        Pixels = pixels;
        OriginalWidth = originalWidth;
        OriginalHeight = originalHeight;
        Format = format;
        ExifOrientation = exifOrientation;
    }

    /// <summary>
    /// Wraps pixels that were decoded elsewhere (a video frame read from ffmpeg) so they go through the same
    /// <see cref="Detector"/> as a photo. The bitmap must already be upright, <see cref="SKColorType.Rgba8888"/> and
    /// opaque; the image takes ownership of it. Its contents may change between detections (a frame reader
    /// refills one bitmap per frame): the detector reads the pixels only during a call.
    /// </summary>
    public static DecodedImage FromPixels(SKBitmap uprightOpaqueRgba)
    {
        ArgumentNullException.ThrowIfNull(uprightOpaqueRgba);
        if (uprightOpaqueRgba.ColorType != SKColorType.Rgba8888 || uprightOpaqueRgba.AlphaType != SKAlphaType.Opaque)
            throw new ArgumentException($"Pixels must be Rgba8888 and opaque, not {uprightOpaqueRgba.ColorType}/{uprightOpaqueRgba.AlphaType}.",
                nameof(uprightOpaqueRgba));
        return new DecodedImage(uprightOpaqueRgba, uprightOpaqueRgba.Width, uprightOpaqueRgba.Height, ImageFormat.Raw, 1);
    }

    /// <summary>Upright pixels, <see cref="SKColorType.Rgba8888"/>, opaque (alpha composited on white).</summary>
    public SKBitmap Pixels { get; }

    /// <summary>Width of the upright image at full resolution: the space boxes are reported in.</summary>
    public int OriginalWidth { get; }
    public int OriginalHeight { get; }
    public ImageFormat Format { get; }

    /// <summary>The EXIF orientation (1–8) the file carried and that was applied; 1 when none.</summary>
    public int ExifOrientation { get; }

    public int Width => Pixels.Width;
    public int Height => Pixels.Height;
    public bool IsReducedScale => Pixels.Width != OriginalWidth || Pixels.Height != OriginalHeight;
    public float ScaleToOriginalX => (float)OriginalWidth / Pixels.Width;
    public float ScaleToOriginalY => (float)OriginalHeight / Pixels.Height;

    /// <summary>
    /// A copy turned by an EXIF orientation (1–8) on top of what the file said: for clients that send sideways
    /// pixels and the orientation separately (the original page's <c>orientation</c> field).
    /// </summary>
    public DecodedImage Reorient(int orientation)
    {
        if (orientation is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation is 1–8.");
        var origin = (SkiaSharp.SKEncodedOrigin)orientation;
        var (w, h) = ImageDecoder.UprightSize(OriginalWidth, OriginalHeight, origin);
        return new DecodedImage(ImageDecoder.Orient(Pixels, origin), w, h, Format, orientation);
    }

    public void Dispose() => Pixels.Dispose();
}
