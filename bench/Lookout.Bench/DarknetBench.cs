using System.Diagnostics;
using System.Globalization;
using Lookout.Detection.Darknet;
using Lookout.Detection.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Bench;

/// <summary>
/// Median per-image latency of a Darknet model imported to ONNX and run in ONNX Runtime, against OpenCV DNN's own
/// Darknet importer (bench/Darknet/opencv_bench.py, Debian's python3-opencv) on the same machine in the same run.
/// </summary>
public static class DarknetBench
{
    // args: [runs [model [image]]]
    public static async Task<int> RunAsync(string[] args)
    {
        int runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        string model = args.Length > 1 ? args[1] : "yolo-fastest-1.1";
        string imageName = args.Length > 2 ? args[2] : "dog.jpg";

        var assets = BenchAssets.Store();
        string cfg = (await assets.ResolveAsync(model + ".cfg")).Path;
        string weights = (await assets.ResolveAsync(model + ".weights")).Path;
        string imagePath = (await assets.ResolveAsync(imageName)).Path;

        var importClock = Stopwatch.StartNew();
        var imported = DarknetImporter.Import(cfg, weights);
        Console.WriteLine($"import {model}: {importClock.Elapsed.TotalMilliseconds:F0} ms, {imported.OnnxBytes.Length / 1024} KiB ONNX");

        using var session = new InferenceSession(imported.OnnxBytes);
        using var image = new ImageDecoder().Decode(await File.ReadAllBytesAsync(imagePath));
        int w = imported.InputWidth, h = imported.InputHeight;
        var tensor = new float[3 * w * h];
        using var input = OrtValue.CreateTensorValueFromMemory(tensor, [1, 3, h, w]);
        using var runOptions = new RunOptions();
        void Run() { using var outputs = session.Run(runOptions, ["images"], [input], ["output"]); }

        double runOnly = Median(runs, Run);
        // Lookout's own Darknet letterbox (the engine's TensorWriter), then the run.
        double letterboxAndRun = Median(runs, () =>
        {
            TensorWriter.Write(image.Pixels, w, h, PreprocessSpec.Darknet, tensor);
            Run();
        });

        var script = Path.Combine(BenchAssets.RepositoryRoot, "bench", "Darknet", "opencv_bench.py");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("LOOKOUT_PYTHON") ?? "/usr/bin/python3") { RedirectStandardOutput = true };
        foreach (var a in new[] { script, cfg, weights, imagePath, runs.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        string line = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        double opencv = double.Parse(line.Split(' ')[0]["median_ms=".Length..], CultureInfo.InvariantCulture);

        Console.WriteLine($"{model} {w}x{h}, {imageName}, median of {runs} runs each, {Environment.ProcessorCount} cores");
        Console.WriteLine($"  ONNX Runtime, Run only:           {runOnly:F2} ms");
        Console.WriteLine($"  ONNX Runtime, letterbox + Run:    {letterboxAndRun:F2} ms");
        Console.WriteLine($"  OpenCV DNN forward:                {opencv:F2} ms ({line[(line.IndexOf(' ') + 1)..]})");
        Console.WriteLine($"  ratio ORT Run / OpenCV forward: {runOnly / opencv:F2}; ORT letterbox+Run / OpenCV forward: {letterboxAndRun / opencv:F2}");
        return 0;
    }

    private static double Median(int runs, Action action)
    {
        for (int i = 0; i < 5; i++) action();
        return BenchAssets.Median(Enumerable.Range(0, runs).Select(_ =>
        {
            long start = Stopwatch.GetTimestamp();
            action();
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }).ToArray());
    }
}
