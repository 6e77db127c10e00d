using System.Diagnostics;

namespace Lookout.Cli.Video;

/// <summary>ffmpeg or ffprobe is not on PATH: the one message a user sees, with the install command.</summary>
public sealed class FfmpegMissingException(string message) : Exception(message);

/// <summary>
/// Finds Debian's <c>ffmpeg</c> and <c>ffprobe</c> on PATH and starts them as child processes with pipes. Nothing
/// of a video is ever written to a temporary file: frames travel over stdout (reading) and stdin (writing).
/// </summary>
public sealed class Ffmpeg
{
    public const string InstallHint = "sudo apt-get install -y ffmpeg";

    private Ffmpeg(string ffmpegPath, string ffprobePath, string? setsidPath)
    {
        FfmpegPath = ffmpegPath;
        FfprobePath = ffprobePath;
        SetsidPath = setsidPath;
    }

    public string FfmpegPath { get; }
    public string FfprobePath { get; }

    /// <summary>
    /// util-linux's setsid, when present: it starts ffmpeg in a session of its own, so the Ctrl-C a terminal sends
    /// to its whole foreground process group reaches only lookout, which then closes the output video itself
    /// (stdin closed → ffmpeg writes the index) instead of racing an encoder that was interrupted too.
    /// </summary>
    public string? SetsidPath { get; }

    /// <summary>Locates ffmpeg and ffprobe on PATH, or throws the message that says how to install them.</summary>
    public static Ffmpeg Locate(string forFile)
    {
        var ffmpeg = FindOnPath("ffmpeg");
        var ffprobe = FindOnPath("ffprobe");
        if (ffmpeg is null || ffprobe is null)
        {
            var missing = ffmpeg is null && ffprobe is null ? "ffmpeg" : ffmpeg is null ? "ffmpeg (ffprobe is there)" : "ffprobe (ffmpeg is there)";
            throw new FfmpegMissingException($"{forFile}: videos are read with ffmpeg; {missing} is not on PATH. Install it: {InstallHint}");
        }
        return new Ffmpeg(ffmpeg, ffprobe, FindOnPath("setsid"));
    }

    /// <summary>The first executable file of this name in a PATH folder, or null.</summary>
    public static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (OperatingSystem.IsWindows()) { if (File.Exists(candidate + ".exe")) return candidate + ".exe"; }
            else if (File.Exists(candidate) && IsExecutable(candidate)) return candidate;
        }
        return null;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static bool IsExecutable(string file) =>
        (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>
    /// How a local file is named to ffmpeg: "file:" and the absolute path, so that a name with a colon ("http:…",
    /// "concat:…") is never taken for a protocol and a name starting with "-" never for an option.
    /// </summary>
    public static string FileUrl(string path) => "file:" + Path.GetFullPath(path);

    /// <summary>Starts a tool with stdout and stderr piped (and stdin when <paramref name="pipeStdin"/>).</summary>
    public Process Start(string tool, IEnumerable<string> args, bool pipeStdin)
    {
        var psi = SetsidPath is null ? new ProcessStartInfo(tool) : new ProcessStartInfo(SetsidPath);
        if (SetsidPath is not null)
        {
            // --wait: should setsid have to fork, it still waits and passes on ffmpeg's exit status.
            psi.ArgumentList.Add("--wait");
            psi.ArgumentList.Add(tool);
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = pipeStdin;
        psi.UseShellExecute = false;
        return Process.Start(psi) ?? throw new InvalidOperationException($"{tool} could not be started.");
    }
}

/// <summary>Keeps the last lines a child process wrote to stderr (ffmpeg's error messages) while draining it.</summary>
internal sealed class StderrTail
{
    private readonly Queue<string> _lines = new();
    private readonly int _keep;
    private readonly Task _drain;

    public StderrTail(Process process, int keep = 20)
    {
        _keep = keep;
        // Drained continuously: a child blocked on a full stderr pipe would stop sending frames.
        _drain = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                lock (_lines)
                {
                    _lines.Enqueue(line);
                    if (_lines.Count > _keep) _lines.Dequeue();
                }
            }
        });
    }

    /// <summary>The lines kept so far, after stderr has closed (waits at most a moment for that).</summary>
    public IReadOnlyList<string> Lines()
    {
        _drain.Wait(TimeSpan.FromSeconds(5));
        lock (_lines) return [.. _lines];
    }

    /// <summary>The most telling line: the last one, where ffmpeg puts its final error.</summary>
    public string? Last() => Lines() is { Count: > 0 } l ? l[^1] : null;
}
