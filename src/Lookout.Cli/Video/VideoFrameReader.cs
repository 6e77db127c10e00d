using System.Diagnostics;
using System.Globalization;
using SkiaSharp;

namespace Lookout.Cli.Video;

/// <summary>
/// Decodes a video with an ffmpeg child process that pipes raw RGBA frames on its stdout, one frame at a time
/// straight into the caller's bitmap. ffmpeg applies a phone video's rotation itself (autorotate is its default),
/// so frames arrive upright at <see cref="VideoInfo.Width"/>×<see cref="VideoInfo.Height"/>.
/// </summary>
public sealed class VideoFrameReader : IDisposable
{
    private readonly Process _process;
    private readonly Stream _stdout;
    private readonly StderrTail _stderr;
    private readonly int _frameBytes;
    private bool _ended;

    private VideoFrameReader(Process process, VideoInfo info, int sourceStride)
    {
        _process = process;
        _stdout = process.StandardOutput.BaseStream;
        _stderr = new StderrTail(process);
        Info = info;
        SourceStride = sourceStride;
        _frameBytes = checked(info.Width * info.Height * 4);
    }

    public VideoInfo Info { get; }

    /// <summary>ffmpeg sends every this-many-th source frame (1: every frame).</summary>
    public int SourceStride { get; }

    /// <summary>Frames delivered so far.</summary>
    public long FramesRead { get; private set; }

    /// <summary>
    /// Starts decoding. With <paramref name="sourceStride"/> above 1 ffmpeg itself drops the frames in between
    /// (they are still decoded, but never converted to RGBA or piped), for detection without an output video.
    /// </summary>
    public static VideoFrameReader Start(Ffmpeg ffmpeg, string file, VideoInfo info, int sourceStride = 1)
    {
        var args = new List<string> { "-v", "error", "-nostdin", "-i", Ffmpeg.FileUrl(file), "-map", "0:v:0", "-an", "-sn", "-dn" };
        if (sourceStride > 1) args.AddRange(["-vf", string.Create(CultureInfo.InvariantCulture, $"select=not(mod(n\\,{sourceStride}))")]);
        // passthrough: each decoded (and selected) frame exactly once. The rawvideo muxer's default is constant
        // frame rate, which duplicates and drops frames to fill timestamp gaps and would break frame indices.
        args.AddRange(["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"]);
        return new VideoFrameReader(ffmpeg.Start(ffmpeg.FfmpegPath, args, pipeStdin: false), info, sourceStride);
    }

    /// <summary>The source index of the frame <see cref="TryRead"/> delivered last.</summary>
    public long SourceIndexOfLastFrame => (FramesRead - 1) * SourceStride;

    /// <summary>
    /// Reads the next frame into <paramref name="target"/> (Rgba8888, the video's upright size). False at the end of
    /// the stream; a frame cut short counts as the end (ffmpeg stopped mid-frame).
    /// </summary>
    public bool TryRead(SKBitmap target)
    {
        if (_ended) return false;
        if (target.Width != Info.Width || target.Height != Info.Height || target.ColorType != SKColorType.Rgba8888)
            throw new ArgumentException($"The frame bitmap must be {Info.Width}×{Info.Height} Rgba8888.", nameof(target));
        var span = target.GetPixelSpan();
        int read = _stdout.ReadAtLeast(span[.._frameBytes], _frameBytes, throwOnEndOfStream: false);
        if (read < _frameBytes)
        {
            _ended = true;
            return false;
        }
        FramesRead++;
        return true;
    }

    /// <summary>
    /// After the last frame: waits for ffmpeg and judges the stream. A non-zero exit, fewer frames than the
    /// container declares, or (when it declares none) decoding errors mean the video is damaged or truncated.
    /// </summary>
    public VideoReadOutcome Finish()
    {
        _process.WaitForExit();
        var errors = _stderr.Lines();
        long expected = Info.DeclaredFrames is { } n ? (n + SourceStride - 1) / SourceStride : 0;
        string? problem = null;
        if (_process.ExitCode != 0)
            problem = $"ffmpeg stopped with an error after {FramesRead} frame{(FramesRead == 1 ? "" : "s")}";
        else if (Info.DeclaredFrames is not null && FramesRead < expected)
            problem = $"the video ends after {FramesRead} of the {expected} frames it declares";
        else if (Info.DeclaredFrames is null && errors.Count > 0)
            problem = $"ffmpeg reported errors while decoding ({FramesRead} frame{(FramesRead == 1 ? "" : "s")} read)";
        return new VideoReadOutcome(problem, errors);
    }

    /// <summary>Stops ffmpeg early (Ctrl-C, or an output that failed).</summary>
    public void Stop()
    {
        _ended = true;
        try
        {
            if (!_process.HasExited) _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }
}

/// <summary>How reading ended: <see cref="Problem"/> is null for a clean end; <see cref="Errors"/> are ffmpeg's last error lines.</summary>
public sealed record VideoReadOutcome(string? Problem, IReadOnlyList<string> Errors);
