namespace Lookout.Detection.Imaging;

/// <summary>Where the resized image sits inside the model's input.</summary>
public enum LetterboxAlignment
{
    /// <summary>YOLOX: image at the top-left corner, padding right and below; size truncated (int(w*r)).</summary>
    TopLeft,
    /// <summary>Ultralytics: size rounded, padding split evenly, offsets rounded as round(d/2 - 0.1).</summary>
    Centered,
    /// <summary>Darknet's letterbox_image: size by integer arithmetic, offsets (net - new) / 2 in integers.</summary>
    CenteredDarknet,
}

/// <summary>
/// The geometry of fitting a source image into a model input without distorting it, and the exact inverse used
/// to map boxes back. Kept separate from pixel work so the round trip can be tested with plain numbers.
/// </summary>
public readonly record struct Letterbox(
    int SourceWidth, int SourceHeight,
    int TargetWidth, int TargetHeight,
    float Scale,
    int ResizedWidth, int ResizedHeight,
    int PadLeft, int PadTop)
{
    public static Letterbox Compute(int sourceWidth, int sourceHeight, int targetWidth, int targetHeight, LetterboxAlignment alignment)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sourceHeight, 1);
        float r = Math.Min((float)targetWidth / sourceWidth, (float)targetHeight / sourceHeight);
        int w, h, left, top;
        switch (alignment)
        {
            case LetterboxAlignment.TopLeft:
                w = (int)(sourceWidth * r);
                h = (int)(sourceHeight * r);
                left = 0;
                top = 0;
                break;
            case LetterboxAlignment.Centered:
                w = (int)MathF.Round(sourceWidth * r, MidpointRounding.ToEven);
                h = (int)MathF.Round(sourceHeight * r, MidpointRounding.ToEven);
                left = (int)MathF.Round((targetWidth - w) / 2f - 0.1f, MidpointRounding.ToEven);
                top = (int)MathF.Round((targetHeight - h) / 2f - 0.1f, MidpointRounding.ToEven);
                break;
            case LetterboxAlignment.CenteredDarknet:
                if ((float)targetWidth / sourceWidth < (float)targetHeight / sourceHeight)
                {
                    w = targetWidth;
                    h = sourceHeight * targetWidth / sourceWidth;
                }
                else
                {
                    h = targetHeight;
                    w = sourceWidth * targetHeight / sourceHeight;
                }
                left = (targetWidth - w) / 2;
                top = (targetHeight - h) / 2;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(alignment));
        }
        w = Math.Clamp(w, 1, targetWidth);
        h = Math.Clamp(h, 1, targetHeight);
        return new Letterbox(sourceWidth, sourceHeight, targetWidth, targetHeight, r, w, h, left, top);
    }

    // The effective scale per axis: the resized size is rounded, so use it rather than r for an exact inverse.
    private float ScaleX => (float)ResizedWidth / SourceWidth;
    private float ScaleY => (float)ResizedHeight / SourceHeight;

    public (float X, float Y) ToTarget(float x, float y) => (x * ScaleX + PadLeft, y * ScaleY + PadTop);
    public (float X, float Y) ToSource(float x, float y) => ((x - PadLeft) / ScaleX, (y - PadTop) / ScaleY);
}
