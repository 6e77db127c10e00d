namespace Lookout.Detection.Imaging;

/// <summary>Limits checked before any large allocation: bytes on arrival, pixels from the header.</summary>
public sealed record DecodeLimits
{
    public const long DefaultMaxBytes = 20L * 1024 * 1024;
    public const long DefaultMaxPixels = 40_000_000;

    public long MaxBytes { get; init; } = DefaultMaxBytes;
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    public static DecodeLimits Default { get; } = new();
}
