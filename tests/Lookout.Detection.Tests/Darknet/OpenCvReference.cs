using Lookout.Detection.Tests.Support;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Lookout.Detection.Tests.Darknet;

internal sealed record Blob(int[] Shape, float[] Data);

/// <summary>Runs opencv_reference.py (OpenCV DNN's own Darknet importer) on the same cfg, weights and
/// input tensor, as an implementation that shares no code with ours.</summary>
internal static class OpenCvReference
{
    public static Dictionary<string, Blob> Run(string cfg, string weights, float[] input, int[] shape)
    {
        using var temp = new TempDirectory();
        var inputPath = temp.File("input.f32");
        File.WriteAllBytes(inputPath, MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
        var outDir = temp.File("out");

        // OpenCV loading a YOLOv3-608 graph on a busy 2-core machine can take minutes.
        ExternalTools.RunPython(Path.Combine("Darknet", "opencv_reference.py"), "python3-opencv", TimeSpan.FromMinutes(5),
            cfg, weights, inputPath, string.Join(",", shape), outDir);

        using var listing = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "outputs.json")));
        var result = new Dictionary<string, Blob>();
        foreach (var entry in listing.RootElement.GetProperty("outputs").EnumerateArray())
        {
            var blobShape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var bytes = File.ReadAllBytes(Path.Combine(outDir, entry.GetProperty("file").GetString()!));
            result[entry.GetProperty("name").GetString()!] = new Blob(blobShape, MemoryMarshal.Cast<byte, float>(bytes).ToArray());
        }

        return result;
    }
}
