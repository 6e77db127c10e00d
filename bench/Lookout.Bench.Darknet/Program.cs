// Median per-image latency of a Darknet model imported to ONNX and run in ONNX Runtime, against
// OpenCV DNN's own Darknet importer on the same machine in the same run.
// Usage: dotnet run -c Release --project bench/Lookout.Bench.Darknet [-- RUNS [MODEL [IMAGE]]]
using System.Diagnostics;
using System.Globalization;
using Lookout.Detection.Darknet;
using Microsoft.ML.OnnxRuntime;
using SkiaSharp;

int runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
string model = args.Length > 1 ? args[1] : "yolo-fastest-1.1";
string imageName = args.Length > 2 ? args[2] : "dog.jpg";

string root = FindRepoRoot();
string cfg = FindAsset(model + ".cfg"), weights = FindAsset(model + ".weights"), imagePath = FindAsset(imageName);

var importClock = Stopwatch.StartNew();
var imported = DarknetImporter.Import(cfg, weights);
Console.WriteLine($"import {model}: {importClock.Elapsed.TotalMilliseconds:F0} ms, {imported.OnnxBytes.Length / 1024} KiB ONNX");

using var session = new InferenceSession(imported.OnnxBytes);
using var image = SKBitmap.Decode(imagePath);
int w = imported.InputWidth, h = imported.InputHeight;
var tensor = new float[3 * w * h];
long[] shape = [1, 3, h, w];

double runOnly = Median(runs, () => Run(session, tensor, shape));
double letterboxAndRun = Median(runs, () =>
{
    Letterbox(image, w, h, tensor);
    Run(session, tensor, shape);
});

var python = Environment.GetEnvironmentVariable("LOOKOUT_PYTHON") ?? "/usr/bin/python3";
var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, UseShellExecute = false };
foreach (var a in new[] { Path.Combine(root, "bench", "Darknet", "opencv_bench.py"), cfg, weights, imagePath, runs.ToString(CultureInfo.InvariantCulture) })
{
    psi.ArgumentList.Add(a);
}

using var process = Process.Start(psi)!;
string line = process.StandardOutput.ReadToEnd().Trim();
process.WaitForExit();
double opencv = double.Parse(line.Split(' ')[0]["median_ms=".Length..], CultureInfo.InvariantCulture);

Console.WriteLine($"{model} {w}x{h}, {imageName}, median of {runs} runs each, {Environment.ProcessorCount} cores");
Console.WriteLine($"  ONNX Runtime, Run only:           {runOnly:F2} ms");
Console.WriteLine($"  ONNX Runtime, letterbox + Run:    {letterboxAndRun:F2} ms");
Console.WriteLine($"  OpenCV DNN forward:                {opencv:F2} ms ({line[(line.IndexOf(' ') + 1)..]})");
Console.WriteLine($"  ratio ORT Run / OpenCV forward: {runOnly / opencv:F2}; ORT letterbox+Run / OpenCV forward: {letterboxAndRun / opencv:F2}");

static void Run(InferenceSession session, float[] tensor, long[] shape)
{
    using var input = OrtValue.CreateTensorValueFromMemory(tensor, shape);
    using var runOptions = new RunOptions();
    using var outputs = session.Run(runOptions, ["images"], [input], ["output"]);
}

static void Letterbox(SKBitmap source, int width, int height, float[] tensor)
{
    float scale = Math.Min((float)width / source.Width, (float)height / source.Height);
    int w = (int)Math.Round(source.Width * scale), h = (int)Math.Round(source.Height * scale);
    using var target = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
    using (var canvas = new SKCanvas(target))
    {
        canvas.Clear(new SKColor(127, 127, 127));
        using var img = SKImage.FromBitmap(source);
        float x = (width - w) / 2f, y = (height - h) / 2f;
        canvas.DrawImage(img, new SKRect(x, y, x + w, y + h), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
    }

    var pixels = target.GetPixelSpan();
    int plane = width * height;
    for (int i = 0; i < plane; i++)
    {
        tensor[i] = pixels[i * 4] / 255f;
        tensor[plane + i] = pixels[i * 4 + 1] / 255f;
        tensor[2 * plane + i] = pixels[i * 4 + 2] / 255f;
    }
}

static double Median(int runs, Action action)
{
    for (int i = 0; i < 5; i++)
    {
        action();
    }

    var times = new double[runs];
    for (int i = 0; i < runs; i++)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    Array.Sort(times);
    return runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
}

static string FindRepoRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lookout.slnx")))
            {
                return dir.FullName;
            }
        }
    }

    throw new InvalidOperationException("Run from inside the repository: no Lookout.slnx found above the current or program directory.");
}

string FindAsset(string name)
{
    var dirs = (Environment.GetEnvironmentVariable("LOOKOUT_ASSET_DIRS") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).ToList();
    dirs.Add(Path.Combine(root, "..", "shared", "models", "darknet"));
    dirs.Add(Path.Combine(root, "..", "shared", "images"));
    return dirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"{name} not found in {string.Join(", ", dirs)}");
}
