using System.Diagnostics;
using Lookout.Detection;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Bench;

/// <summary>
/// Float against int8 (files made by <c>lookout models quantize</c>): bare Run and the whole pipeline on dog.jpg, at
/// 1 and 2 intra-op threads, in interleaved rounds (float Run, int8 Run, float pipeline, int8 pipeline, …); medians
/// and the median of per-round speed-ups, as a Markdown table.
/// </summary>
public static class Int8Bench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = 30;
        var pairs = new List<(string Float, string Int8)>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds") rounds = int.Parse(args[++i]);
            else if (args[i].Split('=') is [var f, var q]) pairs.Add((f, q));
            else { Console.Error.WriteLine("usage: Lookout.Bench int8 FLOAT.onnx=INT8.onnx [...] [--rounds N]"); return 1; }
        }
        var image = await File.ReadAllBytesAsync(BenchAssets.Store().Resolve("dog.jpg").Path);
        Console.WriteLine($"dog.jpg, {rounds} interleaved rounds, medians (ms) and median per-round speed-up; {Environment.ProcessorCount} cores");
        Console.WriteLine("| model | threads | float Run | int8 Run | Run speed-up | float pipeline | int8 pipeline | pipeline speed-up |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (floatPath, int8Path) in pairs)
        foreach (var threads in new[] { 1, 2 })
        {
            var settings = new InferenceSettings { IntraOpThreads = threads };
            using var a = DetectionModel.Load(Path.GetFileNameWithoutExtension(floatPath), null, floatPath, settings);
            using var b = DetectionModel.Load(Path.GetFileNameWithoutExtension(int8Path), null, int8Path, settings);
            Detector da = new(a), db = new(b);
            var input = new float[3 * a.InputWidth * a.InputHeight];
            using (var decoded = da.Decode(image, forDrawing: false))
                TensorWriter.Write(decoded.Pixels, a.InputWidth, a.InputHeight, a.Preprocess, input);
            using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 3, a.InputHeight, a.InputWidth]);
            using var runOptions = new RunOptions();
            double Bare(DetectionModel m)
            {
                var t0 = Stopwatch.GetTimestamp();
                using (m.Session.Run(runOptions, [m.InputName], [value], [m.OutputName])) { }
                return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
            double Pipeline(Detector d)
            {
                var t0 = Stopwatch.GetTimestamp();
                d.Detect(image);
                return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
            for (int i = 0; i < 3; i++) { Bare(a); Bare(b); Pipeline(da); Pipeline(db); }
            var r = new List<(double Fa, double Fb, double Pa, double Pb)>();
            for (int i = 0; i < rounds; i++) r.Add((Bare(a), Bare(b), Pipeline(da), Pipeline(db)));
            double M(Func<(double Fa, double Fb, double Pa, double Pb), double> f) => BenchAssets.Median(r.Select(f));
            Console.WriteLine($"| {a.Name} {a.InputWidth} | {threads} | {M(x => x.Fa):0.0} | {M(x => x.Fb):0.0} | {M(x => x.Fa / x.Fb):0.00}× | " +
                              $"{M(x => x.Pa):0.0} | {M(x => x.Pb):0.0} | {M(x => x.Pa / x.Pb):0.00}× |");
        }
        return 0;
    }
}
