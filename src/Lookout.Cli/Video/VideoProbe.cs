using System.Globalization;
using System.Text.Json;

namespace Lookout.Cli.Video;

/// <summary>A file ffmpeg cannot read as a video, or a video that broke while being read.</summary>
public sealed class VideoException(string message) : Exception(message);

/// <summary>
/// What ffprobe says about a video's first video stream. <see cref="Width"/> and <see cref="Height"/> are the
/// upright size (the frames ffmpeg delivers: it applies a phone video's rotation by default).
/// </summary>
public sealed record VideoInfo(
    string Codec,
    int Width,
    int Height,
    int Rotation,
    double FramesPerSecond,
    string FrameRate,
    long? DeclaredFrames,
    double? DurationSeconds)
{
    /// <summary>The frame count the container declares (MP4, MOV, AVI do), else one estimated from duration × rate (MKV, WebM).</summary>
    public long? ExpectedFrames => DeclaredFrames ?? (DurationSeconds is { } d && FramesPerSecond > 0 ? (long)Math.Round(d * FramesPerSecond) : null);
}

public static class VideoProbe
{
    /// <summary>Runs ffprobe on <paramref name="file"/>; a file that holds no video stream ffmpeg can decode is a <see cref="VideoException"/>.</summary>
    public static async Task<VideoInfo> ProbeAsync(Ffmpeg ffmpeg, string file, CancellationToken cancellationToken)
    {
        using var process = ffmpeg.Start(ffmpeg.FfprobePath,
        [
            "-v", "error", "-select_streams", "v:0",
            "-show_entries", "stream=codec_name,width,height,avg_frame_rate,r_frame_rate,nb_frames,duration:stream_side_data=rotation:stream_tags=rotate:format=duration",
            "-of", "json", Ffmpeg.FileUrl(file),
        ], pipeStdin: false);
        var stderr = new StderrTail(process);
        var json = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new VideoException($"not a video ffmpeg can read: {Clean(stderr.Last(), file) ?? $"ffprobe failed ({process.ExitCode})"}");
        return Parse(json) ?? throw new VideoException("ffmpeg finds no video stream in this file");
    }

    /// <summary>Reads ffprobe's JSON; null when it lists no video stream with a size.</summary>
    public static VideoInfo? Parse(string ffprobeJson)
    {
        using var doc = JsonDocument.Parse(ffprobeJson);
        if (!doc.RootElement.TryGetProperty("streams", out var streams) || streams.GetArrayLength() == 0) return null;
        var s = streams[0];
        if (!s.TryGetProperty("width", out var w) || !s.TryGetProperty("height", out var h)) return null;
        int width = w.GetInt32(), height = h.GetInt32();
        if (width <= 0 || height <= 0) return null;

        // Rotation: the display matrix (ffmpeg ≥ 5 reports it as side data), or the old "rotate" tag.
        int rotation = 0;
        if (s.TryGetProperty("side_data_list", out var sideData))
            foreach (var sd in sideData.EnumerateArray())
                if (sd.TryGetProperty("rotation", out var r) && r.TryGetDouble(out var deg)) rotation = (int)Math.Round(deg);
        if (rotation == 0 && s.TryGetProperty("tags", out var tags) && tags.TryGetProperty("rotate", out var rt)
            && int.TryParse(rt.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var tagRotation))
            rotation = tagRotation;
        if (Math.Abs(rotation) % 180 == 90) (width, height) = (height, width);

        // avg_frame_rate is the mean over the stream (what a player shows); r_frame_rate is the base rate, used
        // when the container gives no average.
        var rateText = String(s, "avg_frame_rate");
        var fps = Rate(rateText);
        if (fps <= 0) { rateText = String(s, "r_frame_rate"); fps = Rate(rateText); }
        long? frames = long.TryParse(String(s, "nb_frames"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
        double? duration = Seconds(String(s, "duration"));
        if (duration is null && doc.RootElement.TryGetProperty("format", out var format)) duration = Seconds(String(format, "duration"));
        return new VideoInfo(String(s, "codec_name") ?? "?", width, height, rotation, fps, rateText ?? "0/0", frames, duration);
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString() : null;

    private static double Rate(string? text)
    {
        if (text is null) return 0;
        var parts = text.Split('/');
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var num)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var den) && den > 0)
            return num / den;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
    }

    private static double? Seconds(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : null;

    /// <summary>ffmpeg prefixes messages with the input's name ("file:/…/clip.mp4: Invalid data…"); the CLI already names the file.</summary>
    /// <summary>Also drops the "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d…] " component tag, which means nothing to a user.</summary>
    internal static string? Clean(string? line, string file)
    {
        if (line is null) return null;
        if (line.StartsWith('[') && line.IndexOf("] ", StringComparison.Ordinal) is var close and > 0 && line.AsSpan(0, close).Contains(" @ 0x", StringComparison.Ordinal))
            line = line[(close + 2)..];
        foreach (var name in (string[])[Ffmpeg.FileUrl(file), file])
            if (line.StartsWith(name + ": ", StringComparison.Ordinal)) return line[(name.Length + 2)..];
        return line;
    }
}
