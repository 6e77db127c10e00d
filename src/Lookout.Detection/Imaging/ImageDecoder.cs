using SkiaSharp;

namespace Lookout.Detection.Imaging;

/// <summary>
/// Turns encoded bytes into upright, opaque pixels through <see cref="SKCodec"/>, which reports size, format and
/// EXIF origin from the header before anything is decoded, so limits are enforced before any large allocation.
/// </summary>
public sealed class ImageDecoder(DecodeLimits? limits = null)
{
    public DecodeLimits Limits { get; } = limits ?? DecodeLimits.Default;

    /// <summary>Reads format and upright dimensions from the header alone.</summary>
    public unsafe (ImageFormat Format, int Width, int Height, int ExifOrientation) ReadHeader(ReadOnlySpan<byte> encoded)
    {
        var format = CheckBytes(encoded);
        fixed (byte* bytes = encoded)
        {
            using var data = WrapPinned(bytes, encoded.Length);
            using var codec = OpenCodec(data, format);
            var (w, h) = UprightSize(codec.Info.Width, codec.Info.Height, codec.EncodedOrigin);
            return (format, w, h, (int)codec.EncodedOrigin);
        }
    }

    // Skia reads the caller's bytes in place: an upload of up to 20 MB is not copied again. Everything that reads
    // the data (codec, stream) is disposed before the bytes are unpinned.
    private static unsafe SKData WrapPinned(byte* bytes, int length) => SKData.Create((IntPtr)bytes, length);

    /// <summary>
    /// Decodes the image upright. When <paramref name="minLongestSide"/> is given and the format supports it (JPEG),
    /// decodes at the smallest scale allowed by <paramref name="steps"/> (1/8, 1/4, 1/2 by default) whose longest
    /// side still reaches that size: a 12 MP photo going into a 416-pixel model need not be decoded at full size.
    /// Boxes stay in full-resolution pixels through <see cref="DecodedImage.ScaleToOriginalX"/>.
    /// </summary>
    public unsafe DecodedImage Decode(ReadOnlySpan<byte> encoded, int? minLongestSide = null, JpegScaleSteps steps = JpegScaleSteps.PowersOfTwo)
    {
        var format = CheckBytes(encoded);
        fixed (byte* bytes = encoded)
        {
            using var data = WrapPinned(bytes, encoded.Length);
            return Decode(data, format, steps == JpegScaleSteps.None ? null : minLongestSide, steps);
        }
    }

    private DecodedImage Decode(SKData data, ImageFormat format, int? minLongestSide, JpegScaleSteps steps)
    {
        using var codec = OpenCodec(data, format);

        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageDecodeException(ImageErrorKind.Corrupt, $"The {format} header declares an empty image ({info.Width}×{info.Height}).");
        CheckPixels(info.Width, info.Height);

        var origin = codec.EncodedOrigin;
        if (!Enum.IsDefined(origin)) origin = SKEncodedOrigin.TopLeft;
        var (uprightW, uprightH) = UprightSize(info.Width, info.Height, origin);

        var decodeSize = ChooseDecodeSize(codec, format, minLongestSide, steps);
        var opaque = info.AlphaType == SKAlphaType.Opaque;
        var decodeInfo = new SKImageInfo(decodeSize.Width, decodeSize.Height, SKColorType.Rgba8888,
            opaque ? SKAlphaType.Opaque : SKAlphaType.Premul);

        var raw = new SKBitmap();
        try
        {
            if (!raw.TryAllocPixels(decodeInfo))
                throw new ImageDecodeException(ImageErrorKind.TooManyPixels, $"Could not allocate {decodeSize.Width}×{decodeSize.Height} pixels.");
            var result = codec.GetPixels(decodeInfo, raw.GetPixels());
            switch (result)
            {
                case SKCodecResult.Success:
                    break;
                case SKCodecResult.IncompleteInput:
                    throw new ImageDecodeException(ImageErrorKind.Truncated, $"The {format} data ends before the image is complete (truncated upload?).");
                default:
                    throw new ImageDecodeException(ImageErrorKind.Corrupt, $"The {format} data could not be decoded ({result}).");
            }

            if (origin == SKEncodedOrigin.TopLeft && opaque)
            {
                var done = raw;
                raw = null!;
                return new DecodedImage(done, uprightW, uprightH, format, 1);
            }

            // One draw both turns the pixels upright and composites any transparency onto white.
            var upright = Orient(raw, origin);
            return new DecodedImage(upright, uprightW, uprightH, format, (int)origin);
        }
        finally
        {
            raw?.Dispose();
        }
    }

    private ImageFormat CheckBytes(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty)
            throw new ImageDecodeException(ImageErrorKind.Empty, "The upload is empty (0 bytes).");
        if (encoded.Length > Limits.MaxBytes)
            throw new ImageDecodeException(ImageErrorKind.TooManyBytes,
                $"The upload is {encoded.Length / 1048576.0:0.#} MiB; the limit is {Limits.MaxBytes / 1048576.0:0.#} MiB.");
        var format = ImageFormatSniffer.Sniff(encoded) ?? throw new ImageDecodeException(ImageErrorKind.UnsupportedFormat,
            "The data is not an image Lookout reads (JPEG, PNG, WebP, BMP or GIF).");
        if (HeaderDimensions.TryRead(encoded, format) is var (w, h)) CheckPixels(w, h);
        return format;
    }

    private void CheckPixels(long width, long height)
    {
        long pixels = width * height;
        if (pixels > Limits.MaxPixels)
            throw new ImageDecodeException(ImageErrorKind.TooManyPixels,
                $"The image is {width}×{height} ({pixels / 1e6:0.#} MP); the limit is {Limits.MaxPixels / 1e6:0.#} MP.");
    }

    private static SKCodec OpenCodec(SKData data, ImageFormat format)
    {
        // The memory stream reads the SKData in place; the codec takes ownership of the stream.
        var codec = SKCodec.Create(new SKMemoryStream(data), out var result);
        if (codec is null)
        {
            throw result == SKCodecResult.IncompleteInput
                ? new ImageDecodeException(ImageErrorKind.Truncated, $"The {format} data ends inside its header (truncated upload?).")
                : new ImageDecodeException(ImageErrorKind.Corrupt, $"The data starts like a {format} but its header is invalid ({result}).");
        }
        return codec;
    }

    private static readonly float[] Halvings = [0.125f, 0.25f, 0.5f];
    private static readonly float[] Eighths = [0.125f, 0.25f, 0.375f, 0.5f, 0.625f, 0.75f, 0.875f];

    private static SKSizeI ChooseDecodeSize(SKCodec codec, ImageFormat format, int? minLongestSide, JpegScaleSteps steps)
    {
        var full = new SKSizeI(codec.Info.Width, codec.Info.Height);
        if (minLongestSide is not { } min || format != ImageFormat.Jpeg || steps == JpegScaleSteps.None) return full;
        // The reduced image still covers the model input, so the resize after it only ever shrinks. Which steps are
        // allowed is the model-input rule's choice (ModelInputRule, chosen by AP in docs/large-photos.md).
        foreach (var scale in steps == JpegScaleSteps.Eighths ? Eighths : Halvings)
        {
            var size = codec.GetScaledDimensions(scale);
            if (Math.Max(size.Width, size.Height) >= min && size.Width < full.Width) return size;
        }
        return full;
    }

    internal static (int Width, int Height) UprightSize(int width, int height, SKEncodedOrigin origin) =>
        (int)origin >= 5 ? (height, width) : (width, height);

    /// <summary>The matrix that maps encoded pixels to upright ones (EXIF orientations 1–8).</summary>
    internal static SKMatrix OrientationMatrix(SKEncodedOrigin origin, int w, int h) => origin switch
    {
        SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
        SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
        SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
        SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
        SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
        _ => SKMatrix.Identity,
    };

    internal static SKBitmap Orient(SKBitmap raw, SKEncodedOrigin origin)
    {
        var (w, h) = UprightSize(raw.Width, raw.Height, origin);
        var upright = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(upright);
        canvas.Clear(SKColors.White);
        canvas.SetMatrix(OrientationMatrix(origin, raw.Width, raw.Height));
        using var image = SKImage.FromBitmap(raw);
        // Right-angle turns with integer offsets land exactly on pixels, so nearest sampling copies them unchanged.
        canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        canvas.Flush();
        return upright;
    }
}
