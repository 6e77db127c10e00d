using System.Diagnostics;
using Lookout.Detection;
using Lookout.Detection.Models;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Bench;

/// <summary>
/// Whole pipeline (bytes in → result) against a bare <see cref="InferenceSession.Run"/> of the same session on a
/// pre-filled tensor, interleaved iteration by iteration so both see the same machine state; medians reported.
/// </summary>
public static class PipelineBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int iterations = args.Length > 0 ? int.Parse(args[0]) : 200;
        using var catalog = new ModelCatalog(BenchAssets.Store(), new InferenceSettings());
        var model = await catalog.GetAsync(ModelCatalog.DefaultModelName);
        var detector = new Detector(model);
        Console.WriteLine($"model {model.Name} {model.InputWidth}x{model.InputHeight}, ORT intra-op threads = {Environment.ProcessorCount} (all cores), {iterations} interleaved iterations");
        Console.WriteLine($"{"image",-12} {"decode",8} {"preproc",8} {"infer",8} {"postproc",8} {"pipeline",9} {"bare Run",9} {"ratio",6}  (median ms)");

        // The bare Run: the same session, input and output shapes, nothing else.
        var input = new float[3 * model.InputWidth * model.InputHeight];
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, model.InputHeight, model.InputWidth]);
        using var runOptions = new RunOptions();

        foreach (var name in new[] { "dog.jpg", "street.jpg" })
        {
            var bytes = await File.ReadAllBytesAsync(catalog.Assets.Resolve(name).Path);
            // Fill the bare-Run input with this image's real tensor so both runs do identical arithmetic.
            using (var decoded = detector.Decoder.Decode(bytes, Math.Max(model.InputWidth, model.InputHeight)))
                Lookout.Detection.Imaging.TensorWriter.Write(decoded.Pixels, model.InputWidth, model.InputHeight, model.Preprocess, input);

            for (int i = 0; i < 20; i++) { detector.Detect(bytes); BareRun(model, inputValue, runOptions); }
            var stages = new List<StageTimings>();
            var pipeline = new List<double>();
            var bare = new List<double>();
            for (int i = 0; i < iterations; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var result = detector.Detect(bytes);
                pipeline.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                stages.Add(result.Timings);
                bare.Add(BareRun(model, inputValue, runOptions));
            }
            double p = BenchAssets.Median(pipeline), b = BenchAssets.Median(bare);
            Console.WriteLine($"{name,-12} {BenchAssets.Median(stages.Select(s => s.DecodeMs)),8:0.00} {BenchAssets.Median(stages.Select(s => s.PreprocessMs)),8:0.00} " +
                              $"{BenchAssets.Median(stages.Select(s => s.InferenceMs)),8:0.00} {BenchAssets.Median(stages.Select(s => s.PostprocessMs)),8:0.00} " +
                              $"{p,9:0.00} {b,9:0.00} {p / b,6:0.00}x");
        }
        return 0;
    }

    private static double BareRun(DetectionModel model, OrtValue input, RunOptions runOptions)
    {
        var t0 = Stopwatch.GetTimestamp();
        using var outputs = model.Session.Run(runOptions, [model.InputName], [input], [model.OutputName]);
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }
}
