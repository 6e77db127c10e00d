using System.Runtime.InteropServices;
using System.Text.Json;
using Lookout.Detection.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Lookout.Detection.Tests.Ultralytics;

/// <summary>One detection as the reference reports it, in original-image pixels.</summary>
public readonly record struct ReferenceDetection(int ClassId, float Score, BoundingBox Box)
{
    public override string ToString() => $"class {ClassId} {Score:F3} ({Box.X1:F1},{Box.Y1:F1},{Box.X2:F1},{Box.Y2:F1})";
}

/// <summary>
/// Ultralytics' letterbox and decoding done by ultralytics_reference.py (OpenCV + numpy), with the model run in
/// between by a bare ONNX Runtime session of its own (Python has no ONNX Runtime here). Nothing of Lookout's
/// decoding, letterbox, tensor writing, head or NMS takes part.
/// </summary>
public static class UltralyticsReference
{
    private const string Script = "Ultralytics/ultralytics_reference.py";

    public static IReadOnlyList<ReferenceDetection> Detect(InferenceSession session, string imagePath, int inputWidth, int inputHeight,
        float confidence, float iou)
    {
        var dir = Directory.CreateTempSubdirectory("lookout-ultralytics-");
        try
        {
            var tensorPath = Path.Combine(dir.FullName, "input.f32");
            ExternalTools.RunPython(Script, "python3-opencv python3-numpy", TimeSpan.FromMinutes(2),
                "letterbox", imagePath, Inv(inputWidth), Inv(inputHeight), tensorPath);
            var input = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(tensorPath)).ToArray();
            Assert.Equal(3 * inputWidth * inputHeight, input.Length);

            var (raw, shape) = RunBare(session, input, [1, 3, inputHeight, inputWidth]);
            Assert.True(shape is [1, _, _], $"expected a [1, 4+C, N] output, got [{string.Join(",", shape)}]");
            var rawPath = Path.Combine(dir.FullName, "output.f32");
            File.WriteAllBytes(rawPath, MemoryMarshal.AsBytes(raw.AsSpan()).ToArray());

            var jsonPath = Path.Combine(dir.FullName, "detections.json");
            ExternalTools.RunPython(Script, "python3-opencv python3-numpy", TimeSpan.FromMinutes(2),
                "decode", rawPath, Inv(shape[1]), Inv(shape[2]), imagePath, Inv(inputWidth), Inv(inputHeight),
                confidence.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                iou.ToString("R", System.Globalization.CultureInfo.InvariantCulture), jsonPath);
            using var doc = JsonDocument.Parse(File.ReadAllText(jsonPath));
            return doc.RootElement.GetProperty("detections").EnumerateArray().Select(d =>
            {
                var b = d.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                return new ReferenceDetection(d.GetProperty("class").GetInt32(), d.GetProperty("score").GetSingle(),
                    new BoundingBox(b[0], b[1], b[2], b[3]));
            }).ToArray();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Writes the image as OpenCV decodes it to a lossless PNG at <paramref name="pngPath"/>.</summary>
    public static void SaveAsOpenCvDecodes(string imagePath, string pngPath) =>
        ExternalTools.RunPython(Script, "python3-opencv python3-numpy", TimeSpan.FromMinutes(2), "png", imagePath, pngPath);

    /// <summary>The session's first output for one input, with nothing around it.</summary>
    private static (float[] Output, long[] Shape) RunBare(InferenceSession session, float[] input, long[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        var outputName = session.OutputNames[0];
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [value], [outputName]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }

    private static string Inv(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
