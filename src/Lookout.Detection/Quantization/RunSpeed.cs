using Lookout.Detection.Models;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Detection.Quantization;

/// <summary>
/// Bare ONNX Runtime Run times of a float model and its int8 file at one thread count, in interleaved rounds
/// (float, int8, float, int8…) so a machine whose speed drifts slows both alike; medians and the median of the
/// per-round ratios.
/// </summary>
public sealed record RunSpeed(int Threads, int Rounds, double FloatMs, double Int8Ms, double MedianSpeedup)
{
    /// <param name="threads">Intra-op threads; 0 for one per core.</param>
    public static RunSpeed Measure(byte[] floatOnnx, byte[] int8Onnx, string family, int threads, int rounds)
    {
        var settings = new InferenceSettings { IntraOpThreads = threads };
        using var a = DetectionModel.Load("float", family, floatOnnx, settings);
        using var b = DetectionModel.Load("int8", family, int8Onnx, settings);
        var input = new float[3 * a.InputWidth * a.InputHeight];
        // A mid-grey picture: Run time does not depend on the values for these graphs.
        Array.Fill(input, a.Preprocess.PadValue);
        long[] shape = [1, 3, a.InputHeight, a.InputWidth];
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        double Time(DetectionModel m)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            using (m.Session.Run(runOptions, [m.InputName], [value], [m.OutputName])) { }
            return System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Time(a);
        Time(b);
        var fa = new double[rounds];
        var fb = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            fa[r] = Time(a);
            fb[r] = Time(b);
        }
        return new RunSpeed(threads > 0 ? threads : Environment.ProcessorCount, rounds, Median(fa), Median(fb),
            Median(fa.Zip(fb, (x, y) => x / y).ToArray()));
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }
}
