using System.Runtime.CompilerServices;
using SkiaSharp;

namespace Lookout.Detection.Imaging;

public enum ChannelOrder { Rgb, Bgr }

/// <summary>How a model family wants its input: channel order, value scale, letterbox placement and padding.</summary>
public sealed record PreprocessSpec(ChannelOrder Order, float ValueScale, LetterboxAlignment Alignment, float PadValue)
{
    /// <summary>YOLOX: BGR 0..255, top-left, pad 114.</summary>
    public static PreprocessSpec Yolox { get; } = new(ChannelOrder.Bgr, 1f, LetterboxAlignment.TopLeft, 114f);

    /// <summary>Ultralytics: RGB 0..1, centred, pad 114/255.</summary>
    public static PreprocessSpec Ultralytics { get; } = new(ChannelOrder.Rgb, 1f / 255f, LetterboxAlignment.Centered, 114f / 255f);

    /// <summary>Darknet: RGB 0..1, centred, grey 0.5 padding (letterbox_image).</summary>
    public static PreprocessSpec Darknet { get; } = new(ChannelOrder.Rgb, 1f / 255f, LetterboxAlignment.CenteredDarknet, 0.5f);
}

/// <summary>Resizes into the letterbox and writes the planar float tensor (1×3×H×W) the models take.</summary>
public static class TensorWriter
{
    /// <summary>
    /// Fills <paramref name="tensor"/> (length 3·H·W) from <paramref name="image"/>. Only the resized region is
    /// converted pixel by pixel; the padding is filled in bulk with the family's pad value.
    /// </summary>
    public static Letterbox Write(SKBitmap image, int targetWidth, int targetHeight, PreprocessSpec spec, Span<float> tensor)
    {
        var box = Letterbox.Compute(image.Width, image.Height, targetWidth, targetHeight, spec.Alignment);
        int plane = targetWidth * targetHeight;
        if (tensor.Length < 3 * plane) throw new ArgumentException("Tensor buffer too small.", nameof(tensor));

        if (box.ResizedWidth == image.Width && box.ResizedHeight == image.Height)
        {
            WritePixels(image, box, spec, tensor, targetWidth, plane);
        }
        else
        {
            using var resized = new SKBitmap(new SKImageInfo(box.ResizedWidth, box.ResizedHeight, SKColorType.Rgba8888, SKAlphaType.Opaque));
            // Bilinear without mipmaps is what cv2.resize(INTER_LINEAR) does, which the reference implementations use.
            if (!image.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)))
                throw new InvalidOperationException("Skia could not resize the image.");
            WritePixels(resized, box, spec, tensor, targetWidth, plane);
        }
        return box;
    }

    private static unsafe void WritePixels(SKBitmap rgba, Letterbox box, PreprocessSpec spec, Span<float> tensor, int stride, int plane)
    {
        tensor[..(3 * plane)].Fill(spec.PadValue);
        float k = spec.ValueScale;
        // Planes in the model's channel order: for BGR, plane 0 receives blue.
        int rPlane = spec.Order == ChannelOrder.Rgb ? 0 : 2 * plane;
        int bPlane = spec.Order == ChannelOrder.Rgb ? 2 * plane : 0;
        byte* src = (byte*)rgba.GetPixels();
        int rowBytes = rgba.RowBytes;
        fixed (float* dst = tensor)
        {
            for (int y = 0; y < box.ResizedHeight; y++)
            {
                byte* row = src + (long)y * rowBytes;
                int o = (y + box.PadTop) * stride + box.PadLeft;
                float* r = dst + rPlane + o;
                float* g = dst + plane + o;
                float* b = dst + bPlane + o;
                WriteRow(row, r, g, b, box.ResizedWidth, k);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void WriteRow(byte* row, float* r, float* g, float* b, int width, float k)
    {
        for (int x = 0; x < width; x++)
        {
            byte* p = row + 4 * x;
            r[x] = p[0] * k;
            g[x] = p[1] * k;
            b[x] = p[2] * k;
        }
    }
}
