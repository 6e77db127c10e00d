using System.Diagnostics;

namespace Lookout.Detection.Tests.Support;

/// <summary>Debian tools the tests use as independent encoders (.ci/run installs them).</summary>
public static class ExternalTools
{
    /// <summary>ImageMagick's convert, by its Debian path (a stand-in may sit earlier on PATH).</summary>
    public const string Convert = "/usr/bin/convert";

    /// <summary>Debian's python3 (which has python3-opencv and python3-numpy), or LOOKOUT_PYTHON.</summary>
    public static string Python => Environment.GetEnvironmentVariable("LOOKOUT_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    /// <summary>Runs a tool and returns its standard output; a missing tool, a failure or a hang fails with its stderr and <paramref name="hint"/>.</summary>
    public static string Run(string tool, params string[] args) => Run(tool, TimeSpan.FromMinutes(2), "", args);

    public static string Run(string tool, TimeSpan timeout, string hint, params string[] args)
    {
        if (!File.Exists(tool))
            throw new FileNotFoundException($"{tool} is missing: {(hint.Length > 0 ? hint : "install it (apt-get install -y imagemagick python3-opencv)")}; .ci/run does.");
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} took over {timeout.TotalSeconds:0} s.");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}){(hint.Length > 0 ? "; " + hint : "")}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    /// <summary>Runs one of this project's reference scripts (tests/Lookout.Detection.Tests/&lt;script&gt;) with <see cref="Python"/>.</summary>
    public static string RunPython(string script, string debianPackages, TimeSpan timeout, params string[] args) =>
        Run(Python, timeout, $"it needs {debianPackages} (apt-get install -y {debianPackages})",
            [Path.Combine(TestAssets.RepositoryRoot, "tests", "Lookout.Detection.Tests", script), .. args]);

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
