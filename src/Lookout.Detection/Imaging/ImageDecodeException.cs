namespace Lookout.Detection.Imaging;

/// <summary>Why an upload could not be turned into pixels. Each maps to one HTTP status and one CLI message.</summary>
public enum ImageErrorKind
{
    /// <summary>Zero bytes.</summary>
    Empty,
    /// <summary>Not a JPEG, PNG, WebP, BMP or GIF (a text file, random bytes, a PDF…).</summary>
    UnsupportedFormat,
    /// <summary>The header says an image format but the data cannot be decoded.</summary>
    Corrupt,
    /// <summary>The data stops before the image is complete.</summary>
    Truncated,
    /// <summary>More bytes than the configured limit.</summary>
    TooManyBytes,
    /// <summary>The header declares more pixels than the configured limit (refused before decoding).</summary>
    TooManyPixels,
}

public sealed class ImageDecodeException(ImageErrorKind kind, string message) : Exception(message)
{
    public ImageErrorKind Kind { get; } = kind;
}
