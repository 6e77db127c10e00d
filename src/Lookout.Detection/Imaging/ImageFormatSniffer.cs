namespace Lookout.Detection.Imaging;

/// <summary>The image formats Lookout accepts. Skia knows a few more (ICO, WBMP), but WBMP's header is so loose
/// that random bytes pass for it, so only formats with real signatures are let through. <see cref="Raw"/> marks
/// pixels handed over already decoded (video frames from ffmpeg): never sniffed from bytes.</summary>
public enum ImageFormat { Jpeg, Png, WebP, Bmp, Gif, Raw }

public static class ImageFormatSniffer
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Recognises a format from its first bytes; null when none matches.</summary>
    public static ImageFormat? Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat.Jpeg;
        if (data.Length >= 8 && data[..8].SequenceEqual(PngSignature))
            return ImageFormat.Png;
        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8)) return ImageFormat.WebP;
        if (data.Length >= 6 && (data[..6].SequenceEqual("GIF87a"u8) || data[..6].SequenceEqual("GIF89a"u8))) return ImageFormat.Gif;
        if (data.Length >= 14 && data[0] == (byte)'B' && data[1] == (byte)'M') return ImageFormat.Bmp;
        return null;
    }

    public static string MimeType(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Png => "image/png",
        ImageFormat.WebP => "image/webp",
        ImageFormat.Bmp => "image/bmp",
        ImageFormat.Gif => "image/gif",
        _ => "application/octet-stream",
    };
}
