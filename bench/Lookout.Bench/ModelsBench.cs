using System.Diagnostics;
using Lookout.Detection;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Bench;

/// <summary>
/// YOLOX-Nano beside Yolo-Fastest 1.1 / 1.1-XL and the two real Ultralytics YOLOv8n exports (float32 and dynamic
/// INT8) on one photo. Each round
/// runs every model once through the whole pipeline and once as a bare <see cref="InferenceSession.Run"/> of its
/// own session, the models' order rotating from round to round, so all of them see the same machine state; the
/// figures are medians, and the ratios are medians of per-round ratios (the machine's speed drifts between rounds,
/// not within one).
/// </summary>
public static class ModelsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0]) : 60;
        string image = args.Length > 1 ? args[1] : "dog.jpg";
        // One thread measures each model's work with no waiting at ORT's per-op barriers, which on a machine
        // shared with other jobs inflate models with many small ops; 0 = every core, as a lone request runs.
        int threads = args.Length > 2 ? int.Parse(args[2]) : 0;
        using var catalog = new ModelCatalog(BenchAssets.Store(), new InferenceSettings { IntraOpThreads = threads, AllowSpinning = threads != 1 });
        var ultralytics = Path.Combine(BenchAssets.Shared, "models", "ultralytics");
        string[] names = [ModelCatalog.DefaultModelName, "yolo-fastest-1.1", "yolo-fastest-1.1-xl",
            Path.Combine(ultralytics, "yolov8n_fp32.onnx"), Path.Combine(ultralytics, "yolov8n_dynamic_int8.onnx")];
        var bytes = await File.ReadAllBytesAsync(catalog.Assets.Resolve(image).Path);

        var entries = new List<Entry>();
        foreach (var name in names)
        {
            var model = await catalog.GetAsync(name);
            entries.Add(new Entry(model, new Detector(model), bytes));
        }
        Console.WriteLine($"{image}, ORT intra-op threads = {(threads > 0 ? threads : Environment.ProcessorCount)}{(threads > 0 ? "" : " (all cores)")}, {rounds} rounds, model order rotating");
        foreach (var e in entries) e.Warm(5);

        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < entries.Count; k++)
                entries[(r + k) % entries.Count].Measure();

        var reference = entries[0];
        Console.WriteLine($"{"model",-28} {"input",7} {"pipeline",9} {"bare Run",9} {"pipe/bare",9} {"bare vs nano",12}  (median ms; ratios: median of per-round ratios)");
        foreach (var e in entries)
        {
            var vsNano = BenchAssets.Median(e.Bare.Zip(reference.Bare, (a, b) => a / b));
            var own = BenchAssets.Median(e.Pipeline.Zip(e.Bare, (a, b) => a / b));
            Console.WriteLine($"{Path.GetFileName(e.Model.Name),-28} {e.Model.InputWidth + "²",7} {BenchAssets.Median(e.Pipeline),9:0.00} {BenchAssets.Median(e.Bare),9:0.00} " +
                              $"{own,8:0.00}x {vsNano,11:0.00}x");
        }
        foreach (var e in entries) e.Dispose();
        return 0;
    }

    private sealed class Entry : IDisposable
    {
        private readonly float[] _input;
        private readonly OrtValue _inputValue;
        private readonly RunOptions _runOptions = new();
        private readonly byte[] _bytes;

        public Entry(DetectionModel model, Detector detector, byte[] bytes)
        {
            Model = model;
            Detector = detector;
            _bytes = bytes;
            // The bare Run gets this photo's real tensor, so both runs do the same arithmetic (the INT8 file's
            // dynamic quantisation depends on the values).
            _input = new float[3 * model.InputWidth * model.InputHeight];
            using (var decoded = detector.Decoder.Decode(bytes, Math.Max(model.InputWidth, model.InputHeight)))
                TensorWriter.Write(decoded.Pixels, model.InputWidth, model.InputHeight, model.Preprocess, _input);
            _inputValue = OrtValue.CreateTensorValueFromMemory(_input, [1, 3, model.InputHeight, model.InputWidth]);
        }

        public DetectionModel Model { get; }
        public Detector Detector { get; }
        public List<double> Pipeline { get; } = [];
        public List<double> Bare { get; } = [];

        public void Warm(int times)
        {
            for (int i = 0; i < times; i++) { Detector.Detect(_bytes); BareRun(); }
        }

        public void Measure()
        {
            var t0 = Stopwatch.GetTimestamp();
            Detector.Detect(_bytes);
            Pipeline.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            Bare.Add(BareRun());
        }

        private double BareRun()
        {
            var t0 = Stopwatch.GetTimestamp();
            using var outputs = Model.Session.Run(_runOptions, [Model.InputName], [_inputValue], [Model.OutputName]);
            return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        public void Dispose()
        {
            _inputValue.Dispose();
            _runOptions.Dispose();
        }
    }
}
