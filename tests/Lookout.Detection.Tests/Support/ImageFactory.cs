using SkiaSharp;

namespace Lookout.Detection.Tests.Support;

/// <summary>Makes test images from the real samples: re-encodings, rotations, EXIF orientation tags.</summary>
public static class ImageFactory
{
    public static SKBitmap DecodeRgba(byte[] encoded)
    {
        using var src = SKBitmap.Decode(encoded) ?? throw new InvalidOperationException("Skia could not decode the test image.");
        var bmp = new SKBitmap(new SKImageInfo(src.Width, src.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        src.CopyTo(bmp, SKColorType.Rgba8888);
        return bmp;
    }

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality = 92)
    {
        using var data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"Skia could not encode {format}.");
        return data.ToArray();
    }

    /// <summary>
    /// Stores <paramref name="upright"/> the way a camera with EXIF orientation <paramref name="orientation"/> would:
    /// pixels transformed by the inverse of the orientation, and the tag set, so a viewer that applies it shows
    /// the upright image again.
    /// </summary>
    public static byte[] JpegWithOrientation(SKBitmap upright, int orientation)
    {
        using var stored = InverseOrient(upright, orientation);
        var jpeg = Encode(stored, SKEncodedImageFormat.Jpeg, 95);
        return ExifWriter.InsertOrientation(jpeg, orientation);
    }

    private static SKBitmap InverseOrient(SKBitmap upright, int orientation)
    {
        int w = upright.Width, h = upright.Height;
        bool swap = orientation >= 5;
        var stored = new SKBitmap(new SKImageInfo(swap ? h : w, swap ? w : h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(stored);
        // Maps upright (x,y) to stored coordinates: the inverse of what the decoder applies.
        SKMatrix m = orientation switch
        {
            1 => SKMatrix.Identity,
            2 => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            3 => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            4 => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            5 => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            6 => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),   // stored = upright turned 90° counter-clockwise
            7 => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            8 => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),   // stored = upright turned 90° clockwise
            _ => throw new ArgumentOutOfRangeException(nameof(orientation)),
        };
        canvas.SetMatrix(m);
        canvas.DrawBitmap(upright, 0, 0);
        return stored;
    }
}

/// <summary>Writes a minimal EXIF APP1 segment holding only the Orientation tag, as phones do (among much else).</summary>
public static class ExifWriter
{
    public static byte[] InsertOrientation(byte[] jpeg, int orientation)
    {
        if (jpeg.Length < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) throw new ArgumentException("Not a JPEG.");
        var tiff = new List<byte>();
        tiff.AddRange("MM"u8.ToArray());             // big-endian TIFF
        tiff.AddRange([0x00, 0x2A, 0, 0, 0, 8]);     // magic 42, IFD0 at offset 8
        tiff.AddRange([0x00, 0x01]);                 // one entry
        tiff.AddRange([0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, (byte)orientation, 0, 0]); // Orientation, SHORT, 1 value
        tiff.AddRange([0, 0, 0, 0]);                 // no next IFD
        var payload = new List<byte>();
        payload.AddRange("Exif\0\0"u8.ToArray());
        payload.AddRange(tiff);
        int length = payload.Count + 2;
        var segment = new List<byte> { 0xFF, 0xE1, (byte)(length >> 8), (byte)length };
        segment.AddRange(payload);
        // After SOI and a JFIF APP0 if there is one: APP0 must stay first for JFIF readers.
        int insertAt = 2;
        if (jpeg.Length > 5 && jpeg[2] == 0xFF && jpeg[3] == 0xE0) insertAt = 4 + ((jpeg[4] << 8) | jpeg[5]);
        return [.. jpeg.AsSpan(0, insertAt), .. segment, .. jpeg.AsSpan(insertAt)];
    }
}
