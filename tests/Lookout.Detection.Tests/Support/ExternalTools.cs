using System.Diagnostics;

namespace Lookout.Detection.Tests.Support;

/// <summary>Debian tools the tests use as independent encoders (.ci/run installs them).</summary>
public static class ExternalTools
{
    /// <summary>ImageMagick's convert, by its Debian path (a stand-in may sit earlier on PATH).</summary>
    public const string Convert = "/usr/bin/convert";

    public static string Run(string tool, params string[] args)
    {
        if (!File.Exists(tool))
            throw new FileNotFoundException($"{tool} is missing: install it (apt-get install -y imagemagick python3-opencv); .ci/run does.");
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"{tool} {string.Join(' ', args)} took over 2 minutes."); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    /// <summary>Converts <paramref name="input"/> with ImageMagick options, returning the new file's bytes.</summary>
    public static byte[] ConvertImage(byte[] input, string outputExtension, params string[] options)
    {
        var dir = Directory.CreateTempSubdirectory("lookout-test-");
        try
        {
            var src = Path.Combine(dir.FullName, "in.jpg");
            var dst = Path.Combine(dir.FullName, "out" + outputExtension);
            File.WriteAllBytes(src, input);
            Run(Convert, [src, .. options, dst]);
            return File.ReadAllBytes(dst);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
