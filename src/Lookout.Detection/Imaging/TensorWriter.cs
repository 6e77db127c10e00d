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
    /// Fills <paramref name="tensor"/> (length 3·H·W) from the whole of <paramref name="image"/> with the bilinear
    /// filter: the padding in bulk with the family's pad value, then the resized image in one fused
    /// resize-and-convert pass.
    /// </summary>
    public static Letterbox Write(SKBitmap image, int targetWidth, int targetHeight, PreprocessSpec spec, Span<float> tensor) =>
        Write(image, new SKRectI(0, 0, image.Width, image.Height), targetWidth, targetHeight, spec, ResizeFilter.Bilinear, tensor);

    /// <summary>
    /// Fills <paramref name="tensor"/> from <paramref name="region"/> of <paramref name="image"/> (in that bitmap's
    /// pixels; the whole bitmap for a whole-image pass, a tile for sliced inference). The letterbox returned maps
    /// model-input coordinates to coordinates inside the region.
    /// </summary>
    public static Letterbox Write(SKBitmap image, SKRectI region, int targetWidth, int targetHeight, PreprocessSpec spec,
        ResizeFilter filter, Span<float> tensor)
    {
        if (region.Left < 0 || region.Top < 0 || region.Right > image.Width || region.Bottom > image.Height || region.Width < 1 || region.Height < 1)
            throw new ArgumentOutOfRangeException(nameof(region), region, $"The region must lie inside the {image.Width}×{image.Height} image.");
        var box = Letterbox.Compute(region.Width, region.Height, targetWidth, targetHeight, spec.Alignment);
        int plane = targetWidth * targetHeight;
        if (tensor.Length < 3 * plane) throw new ArgumentException("Tensor buffer too small.", nameof(tensor));

        tensor[..(3 * plane)].Fill(spec.PadValue);
        bool shrinks = box.ResizedWidth < region.Width || box.ResizedHeight < region.Height;
        if (filter == ResizeFilter.Area && shrinks) AreaInto(image, region, box, spec, tensor, targetWidth, plane);
        else ResizeInto(image, region, box, spec, tensor, targetWidth, plane);
        return box;
    }

    /// <summary>
    /// Bilinear resize straight into the planar float tensor, in one pass, bit-exact with cv2.resize(INTER_LINEAR)
    /// on an 8-bit image, which is what the reference pipelines (YOLOX, Ultralytics) feed these models: half-pixel
    /// centres, edge clamping, no antialiasing, 11-bit fixed-point weights and OpenCV's rounding to whole grey
    /// levels. Whole levels matter: the dynamically quantised Ultralytics exports turn sub-level differences into
    /// score changes of several hundredths. Rows are split across the cores; each output row is independent.
    /// </summary>
    private static unsafe void ResizeInto(SKBitmap rgba, SKRectI region, Letterbox box, PreprocessSpec spec, Span<float> tensor, int stride, int plane)
    {
        int srcW = region.Width, srcH = region.Height, dstW = box.ResizedWidth, dstH = box.ResizedHeight;
        var x0 = new int[dstW];
        var x1 = new int[dstW];
        var ax0 = new int[dstW];
        var ax1 = new int[dstW];
        for (int x = 0; x < dstW; x++)
        {
            var (i0, i1, w0, w1) = Tap(x, srcW, dstW);
            x0[x] = 4 * (i0 + region.Left); x1[x] = 4 * (i1 + region.Left); ax0[x] = w0; ax1[x] = w1;
        }
        float k = spec.ValueScale;
        int rPlane = spec.Order == ChannelOrder.Rgb ? 0 : 2 * plane;
        int bPlane = spec.Order == ChannelOrder.Rgb ? 2 * plane : 0;
        nint pixels = rgba.GetPixels();
        int rowBytes = rgba.RowBytes;
        int top = region.Top;
        fixed (float* dstFixed = tensor)
        {
            nint dst = (nint)dstFixed;
            void Rows(int from, int to)
            {
                byte* src = (byte*)pixels;
                float* d = (float*)dst;
                for (int y = from; y < to; y++)
                {
                    var (y0, y1, b0, b1) = Tap(y, srcH, dstH);
                    byte* row0 = src + (long)(y0 + top) * rowBytes;
                    byte* row1 = src + (long)(y1 + top) * rowBytes;
                    int o = (y + box.PadTop) * stride + box.PadLeft;
                    float* r = d + rPlane + o, g = d + plane + o, b = d + bPlane + o;
                    for (int x = 0; x < dstW; x++)
                    {
                        byte* a0 = row0 + x0[x], a1 = row0 + x1[x], c0 = row1 + x0[x], c1 = row1 + x1[x];
                        int w0 = ax0[x], w1 = ax1[x];
                        r[x] = Vertical(a0[0] * w0 + a1[0] * w1, c0[0] * w0 + c1[0] * w1, b0, b1) * k;
                        g[x] = Vertical(a0[1] * w0 + a1[1] * w1, c0[1] * w0 + c1[1] * w1, b0, b1) * k;
                        b[x] = Vertical(a0[2] * w0 + a1[2] * w1, c0[2] * w0 + c1[2] * w1, b0, b1) * k;
                    }
                }
            }

            int bands = dstH >= 128 ? Math.Min(Environment.ProcessorCount, 4) : 1;
            if (bands == 1) Rows(0, dstH);
            else Parallel.For(0, bands, band => Rows(band * dstH / bands, (band + 1) * dstH / bands));
        }
    }

    /// <summary>
    /// Area (box-filter) shrink straight into the planar float tensor, as cv2.resize(INTER_AREA) for a reduction:
    /// each output pixel is the mean of the source rectangle it covers, partly covered edge pixels weighted by the
    /// covered fraction. Separable, in bands of output rows across the cores: each band first sums its source rows
    /// horizontally (once per source row), then combines those rows vertically into the tensor.
    /// </summary>
    private static unsafe void AreaInto(SKBitmap rgba, SKRectI region, Letterbox box, PreprocessSpec spec, Span<float> tensor, int stride, int plane)
    {
        int dstW = box.ResizedWidth, dstH = box.ResizedHeight;
        var xTaps = AreaTaps(region.Width, dstW);
        var yTaps = AreaTaps(region.Height, dstH);
        float k = spec.ValueScale;
        int rPlane = spec.Order == ChannelOrder.Rgb ? 0 : 2 * plane;
        int bPlane = spec.Order == ChannelOrder.Rgb ? 2 * plane : 0;
        nint pixels = rgba.GetPixels();
        int rowBytes = rgba.RowBytes, left = region.Left, top = region.Top;
        fixed (float* dstFixed = tensor)
        {
            nint dst = (nint)dstFixed;
            void Rows(int from, int to)
            {
                int firstRow = yTaps.Start[from], lastRow = yTaps.Start[to - 1] + yTaps.Count[to - 1] - 1;
                int rows = lastRow - firstRow + 1, width = 3 * dstW;
                var sums = System.Buffers.ArrayPool<float>.Shared.Rent(rows * width);
                try
                {
                    fixed (float* h = sums)
                    fixed (int* xs = xTaps.Start, xc = xTaps.Count, xo = xTaps.Offset)
                    fixed (float* xw = xTaps.Weights)
                    fixed (int* yc = yTaps.Count, yo = yTaps.Offset, ys = yTaps.Start)
                    fixed (float* yw = yTaps.Weights)
                    {
                        for (int j = 0; j < rows; j++)
                        {
                            byte* row = (byte*)pixels + (long)(firstRow + j + top) * rowBytes + 4L * left;
                            float* o = h + (long)j * width;
                            for (int x = 0; x < dstW; x++)
                            {
                                byte* p = row + 4 * xs[x];
                                float* w = xw + xo[x];
                                float sr = 0, sg = 0, sb = 0;
                                for (int i = 0, n = xc[x]; i < n; i++, p += 4)
                                {
                                    sr += p[0] * w[i]; sg += p[1] * w[i]; sb += p[2] * w[i];
                                }
                                o[3 * x] = sr; o[3 * x + 1] = sg; o[3 * x + 2] = sb;
                            }
                        }
                        float* d = (float*)dst;
                        for (int y = from; y < to; y++)
                        {
                            int at = (y + box.PadTop) * stride + box.PadLeft;
                            float* r = d + rPlane + at, g = d + plane + at, b = d + bPlane + at;
                            float* w = yw + yo[y];
                            float* first = h + (long)(ys[y] - firstRow) * width;
                            for (int x = 0; x < dstW; x++)
                            {
                                float sr = 0, sg = 0, sb = 0;
                                float* q = first + 3 * x;
                                for (int i = 0, n = yc[y]; i < n; i++, q += width)
                                {
                                    sr += q[0] * w[i]; sg += q[1] * w[i]; sb += q[2] * w[i];
                                }
                                r[x] = sr * k; g[x] = sg * k; b[x] = sb * k;
                            }
                        }
                    }
                }
                finally
                {
                    System.Buffers.ArrayPool<float>.Shared.Return(sums);
                }
            }

            int bands = dstH >= 128 ? Math.Min(Environment.ProcessorCount, 4) : 1;
            if (bands == 1) Rows(0, dstH);
            else Parallel.For(0, bands, band => Rows(band * dstH / bands, (band + 1) * dstH / bands));
        }
    }

    /// <summary>For each output pixel: the first source pixel it covers, how many it covers, and where their weights
    /// (summing to 1) start in <see cref="Weights"/>.</summary>
    private sealed record AreaTapTable(int[] Start, int[] Count, int[] Offset, float[] Weights);

    private static AreaTapTable AreaTaps(int source, int target)
    {
        var start = new int[target];
        var count = new int[target];
        var offset = new int[target];
        var weights = new List<float>(source + 2 * target);
        double scale = (double)source / target;
        for (int i = 0; i < target; i++)
        {
            double from = i * scale, to = Math.Min(source, (i + 1) * scale);
            int first = (int)Math.Floor(from), last = Math.Min(source - 1, (int)Math.Ceiling(to) - 1);
            start[i] = first;
            count[i] = last - first + 1;
            offset[i] = weights.Count;
            for (int s = first; s <= last; s++)
                weights.Add((float)((Math.Min(to, s + 1) - Math.Max(from, s)) / (to - from)));
        }
        return new AreaTapTable(start, count, offset, weights.ToArray());
    }

    /// <summary>OpenCV's 8-bit vertical pass of two horizontally filtered rows (each scaled by 2048): its SIMD rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Vertical(int s0, int s1, int b0, int b1) => ((((s0 >> 4) * b0) >> 16) + (((s1 >> 4) * b1) >> 16) + 2) >> 2;

    /// <summary>
    /// cv2's INTER_LINEAR tap for output index <paramref name="d"/>: the two source indices and their weights in
    /// 1/2048ths, the position computed in float as OpenCV does and clamped at the edges.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int I0, int I1, int W0, int W1) Tap(int d, int size, int resized)
    {
        double scale = 1.0 / ((double)resized / size);
        float f = (float)((d + 0.5) * scale - 0.5);
        int i = (int)MathF.Floor(f);
        float w = f - i;
        if (i < 0) return (0, 0, 2048, 0);
        if (i >= size - 1) return (size - 1, size - 1, 2048, 0);
        return (i, i + 1, (int)MathF.Round((1f - w) * 2048f, MidpointRounding.ToEven), (int)MathF.Round(w * 2048f, MidpointRounding.ToEven));
    }
}
