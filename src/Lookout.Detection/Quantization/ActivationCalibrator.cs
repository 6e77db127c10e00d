using SkiaSharp;
using Google.Protobuf;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace Lookout.Detection.Quantization;

/// <summary>An image the calibration could not use, and why.</summary>
public sealed record SkippedImage(string Path, string Reason);

/// <summary>Every float activation's streamed histogram over the calibration images.</summary>
public sealed class CalibrationData(IReadOnlyDictionary<string, TensorHistogram> histograms, IReadOnlyList<string> images, IReadOnlyList<SkippedImage> skipped)
{
    public IReadOnlyDictionary<string, TensorHistogram> Histograms { get; } = histograms;

    /// <summary>The images that were used, in order (the sensitivity step measures on the same ones).</summary>
    public IReadOnlyList<string> Images { get; } = images;
    public IReadOnlyList<SkippedImage> Skipped { get; } = skipped;
}

/// <summary>
/// Collects activation ranges: a copy of the model with every intermediate tensor made a graph output runs on the
/// calibration images, each fed exactly what <see cref="Detector"/> feeds the model (its decode rule, then
/// <see cref="TensorWriter"/> with the model's <see cref="PreprocessSpec"/>); each float output streams into its
/// tensor's histogram and is dropped, so memory holds one image's activations at a time.
/// </summary>
public static class ActivationCalibrator
{
    public static CalibrationData Run(ModelProto model, Detector floatDetector, IEnumerable<string> candidates, int images,
        Action<string?>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(images, 1);
        var instrumented = Instrument(model);
        var target = floatDetector.Model;
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC, InterOpNumThreads = 1 };
        using var session = new InferenceSession(instrumented.ToByteArray(), options);
        string inputName = session.InputMetadata.Keys.Single();
        // ONNX Runtime infers each added output's type; only float tensors can be quantised.
        var floatOutputs = session.OutputMetadata.Where(o => o.Value.IsTensor && o.Value.ElementDataType == TensorElementType.Float)
            .Select(o => o.Key).ToArray();
        var histograms = floatOutputs.Append(inputName).Distinct().ToDictionary(n => n, _ => new TensorHistogram(), StringComparer.Ordinal);

        var input = new float[3 * target.InputWidth * target.InputHeight];
        long[] shape = [1, 3, target.InputHeight, target.InputWidth];
        var used = new List<string>();
        var skipped = new List<SkippedImage>();
        foreach (var path in candidates)
        {
            if (used.Count >= images) break;
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var bytes = File.ReadAllBytes(path);
                using var image = floatDetector.Decode(bytes, forDrawing: false);
                // The service's resize filter too (its input rule's): ranges calibrated on a differently resized input
                // cost YOLOv8n 0.018 AP when the service's default became area resizing.
                TensorWriter.Write(image.Pixels, new SKRectI(0, 0, image.Width, image.Height), target.InputWidth, target.InputHeight,
                    target.Preprocess, floatDetector.InputRule.Filter, input);
            }
            catch (Exception ex) when (ex is ImageDecodeException or IOException or UnauthorizedAccessException)
            {
                skipped.Add(new SkippedImage(path, ex.Message));
                continue;
            }
            using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [inputName], [value], floatOutputs);
            histograms[inputName].Add(input);
            // Tensors are independent: fill their histograms side by side.
            Parallel.For(0, floatOutputs.Length, i => histograms[floatOutputs[i]].Add(outputs[i].GetTensorDataAsSpan<float>()));
            used.Add(path);
            progress?.Invoke(Path.GetFileName(path));
        }
        return new CalibrationData(histograms, used, skipped);
    }

    /// <summary>A copy whose graph outputs are every node output (types left to ONNX Runtime's inference).</summary>
    internal static ModelProto Instrument(ModelProto model)
    {
        var copy = model.Clone();
        var existing = copy.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var node in copy.Graph.Node)
        {
            if (node.OpType is "Constant" or "Shape") continue;
            foreach (var output in node.Output)
                if (output.Length > 0 && existing.Add(output)) copy.Graph.Output.Add(new ValueInfoProto { Name = output });
        }
        return copy;
    }
}
