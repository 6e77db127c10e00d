using System.Diagnostics;
using System.Globalization;
using SkiaSharp;

namespace Lookout.Cli.Video;

/// <summary>
/// Encodes RGBA frames to an H.264 MP4 with an ffmpeg child process fed over its stdin (libx264, no audio). The
/// file is finished properly — index written — when <see cref="Complete"/> closes stdin, also after Ctrl-C.
/// </summary>
public sealed class VideoWriter : IDisposable
{
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly StderrTail _stderr;
    private readonly int _width, _height;
    private bool _completed;

    private VideoWriter(Process process, string path, int width, int height)
    {
        _process = process;
        _stdin = process.StandardInput.BaseStream;
        _stderr = new StderrTail(process);
        Path = path;
        _width = width;
        _height = height;
    }

    public string Path { get; }
    public long FramesWritten { get; private set; }

    /// <param name="frameRate">The source's rate as ffprobe gives it ("30000/1001"), so the output keeps it exactly.</param>
    public static VideoWriter Start(Ffmpeg ffmpeg, string path, int width, int height, string frameRate)
    {
        // libx264's 4:2:0 needs even sides; an odd-sized source keeps its exact size in 4:4:4 instead.
        var pixelFormat = width % 2 == 0 && height % 2 == 0 ? "yuv420p" : "yuv444p";
        string[] args =
        [
            "-v", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgba", "-s", string.Create(CultureInfo.InvariantCulture, $"{width}x{height}"),
            "-framerate", frameRate, "-i", "pipe:0",
            "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", pixelFormat,
            "-movflags", "+faststart", "-f", "mp4", Ffmpeg.FileUrl(path),
        ];
        return new VideoWriter(ffmpeg.Start(ffmpeg.FfmpegPath, args, pipeStdin: true), path, width, height);
    }

    /// <summary>Sends one frame; an encoder that has died is a <see cref="VideoException"/> with its message.</summary>
    public void Write(SKBitmap frame)
    {
        if (frame.Width != _width || frame.Height != _height || frame.ColorType != SKColorType.Rgba8888)
            throw new ArgumentException($"Frames must be {_width}×{_height} Rgba8888.", nameof(frame));
        try
        {
            _stdin.Write(frame.GetPixelSpan()[..(_width * _height * 4)]);
        }
        catch (IOException ex)
        {
            _process.WaitForExit(TimeSpan.FromSeconds(5));
            throw new VideoException($"ffmpeg stopped encoding {Path}: {_stderr.Last() ?? ex.Message}");
        }
        FramesWritten++;
    }

    /// <summary>Closes stdin so ffmpeg flushes the encoder and writes the MP4 index; waits for it.</summary>
    public void Complete()
    {
        if (_completed) return;
        _completed = true;
        try
        {
            _stdin.Flush();
            _stdin.Close();
        }
        catch (IOException)
        {
            // ffmpeg already exited; its exit status below says why
        }
        _process.WaitForExit();
        if (_process.ExitCode != 0)
            throw new VideoException($"ffmpeg could not finish {Path} ({_process.ExitCode}): {_stderr.Last() ?? "no message"}");
    }

    public void Dispose()
    {
        if (!_completed)
        {
            try
            {
                Complete();
            }
            catch (VideoException)
            {
                // Dispose after a failure elsewhere: the first error is the one reported
            }
        }
        _process.Dispose();
    }
}
