namespace Lookout.Detection.Quantization;

/// <summary>
/// A streamed histogram of one activation tensor over every calibration image, in bounded memory: two fixed-size
/// histograms (values ≥ 0 and magnitudes of values &lt; 0) whose bin width doubles, merging neighbouring bins, whenever
/// a new value lies beyond the covered range. No activation is kept; the exact minimum and maximum are tracked too.
/// </summary>
public sealed class TensorHistogram
{
    public const int Bins = 2048;

    private readonly long[] _positive = new long[Bins];
    private readonly long[] _negative = new long[Bins];
    private double _positiveWidth;
    private double _negativeWidth;

    public float Min { get; private set; } = float.PositiveInfinity;
    public float Max { get; private set; } = float.NegativeInfinity;
    public long Count { get; private set; }

    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        if (float.IsNaN(min) || float.IsNaN(max) || float.IsInfinity(min) || float.IsInfinity(max))
            throw new InvalidDataException("An activation holds NaN or infinity: the float model itself misbehaves on this image.");
        Min = Math.Min(Min, min);
        Max = Math.Max(Max, max);
        Count += values.Length;
        Grow(_positive, ref _positiveWidth, Math.Max(max, 0));
        Grow(_negative, ref _negativeWidth, Math.Max(-min, 0));
        double pk = _positiveWidth > 0 ? 1 / _positiveWidth : 0, nk = _negativeWidth > 0 ? 1 / _negativeWidth : 0;
        foreach (var v in values)
        {
            if (v >= 0) _positive[Math.Min((int)(v * pk), Bins - 1)]++;
            else _negative[Math.Min((int)(-v * nk), Bins - 1)]++;
        }
    }

    private static void Grow(long[] bins, ref double width, double extent)
    {
        if (extent <= 0) return;
        if (width == 0)
        {
            width = extent / Bins * 1.0001;
            return;
        }
        while (extent >= width * Bins)
        {
            for (int i = 0; i < Bins / 2; i++) bins[i] = bins[2 * i] + bins[2 * i + 1];
            Array.Clear(bins, Bins / 2, Bins / 2);
            width *= 2;
        }
    }

    /// <summary>
    /// The range that keeps <paramref name="percentile"/> percent of the values: each tail beyond it holds at most
    /// half of the rest. 100 gives the exact min/max.
    /// </summary>
    public (float Low, float High) PercentileRange(double percentile)
    {
        if (Count == 0) return (0, 0);
        if (percentile >= 100) return (Min, Max);
        double tail = Count * (100 - percentile) / 200;
        float high = Max > 0 ? (float)Math.Min(Max, TailEdge(_positive, _positiveWidth, tail)) : Math.Max(Max, 0);
        float low = Min < 0 ? -(float)Math.Min(-Min, TailEdge(_negative, _negativeWidth, tail)) : Math.Min(Min, 0);
        return (low, high);
    }

    private static double TailEdge(long[] bins, double width, double tail)
    {
        long above = 0;
        for (int i = Bins - 1; i >= 0; i--)
        {
            above += bins[i];
            if (above > tail) return (i + 1) * width;
        }
        return width;
    }

    /// <summary>
    /// Signal-to-quantisation-noise ratio (dB) of uint8 over [low, high]: rounding noise inside the range, clipping
    /// error outside it, against the values' mean square. Computed from the bins alone, so every tensor is ranked without
    /// another run.
    /// </summary>
    public double SqnrDb(float low, float high)
    {
        if (Count == 0) return double.PositiveInfinity;
        double scale = Math.Max(high - low, 1e-12) / 255, rounding = scale * scale / 12, signal = 0, noise = 0;
        void Side(long[] bins, double width, int sign)
        {
            for (int i = 0; i < Bins; i++)
            {
                if (bins[i] == 0) continue;
                double c = sign * (i + 0.5) * width;
                signal += bins[i] * c * c;
                double clipped = Math.Clamp(c, low, high);
                noise += bins[i] * (clipped == c ? rounding : (c - clipped) * (c - clipped) + rounding);
            }
        }
        Side(_positive, _positiveWidth, 1);
        Side(_negative, _negativeWidth, -1);
        return noise <= 0 || signal <= 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
    }
}
