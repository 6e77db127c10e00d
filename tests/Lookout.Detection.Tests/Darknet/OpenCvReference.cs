using System.Diagnostics;
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

        var script = Path.Combine(DarknetTestAssets.RepoRoot, "tests", "Lookout.Detection.Tests", "Darknet", "opencv_reference.py");
        var python = Environment.GetEnvironmentVariable("LOOKOUT_PYTHON") ?? "/usr/bin/python3";
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { script, cfg, weights, inputPath, string.Join(",", shape), outDir })
        {
            psi.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Assert.Fail($"Could not start {python} for the OpenCV reference ({e.Message}). CI needs: apt-get install -y python3 python3-opencv");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"OpenCV reference for {Path.GetFileName(cfg)} did not finish in 5 minutes.");
            }

            if (process.ExitCode != 0)
            {
                var err = stderr.Result;
                var hint = err.Contains("No module named 'cv2'", StringComparison.Ordinal)
                    ? " OpenCV for Python is missing: apt-get install -y python3-opencv" : "";
                Assert.Fail($"OpenCV reference failed (exit {process.ExitCode}).{hint}\n{stdout.Result}\n{err}");
            }
        }

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
