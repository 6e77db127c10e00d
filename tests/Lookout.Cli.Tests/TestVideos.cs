using System.Globalization;
using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

/// <summary>
/// Videos made in the test run from the shared photos with Debian's ffmpeg: one second per photo at 5 fps,
/// 640×480 (each photo fitted and padded), H.264 in MP4 with a silent AAC track (so dropping audio can be seen).
/// </summary>
public static class TestVideos
{
    public const string Ffmpeg = "/usr/bin/ffmpeg";
    public const string Ffprobe = "/usr/bin/ffprobe";
    public const int Width = 640, Height = 480, Fps = 5, SecondsPerPhoto = 1;
    private const string Hint = "it needs ffmpeg (apt-get install -y ffmpeg; scripts/prerequisites.sh lists it)";

    private static readonly Lazy<string> ClipLazy = new(MakeClip);

    public static string Directory { get; } = TestAssets.TestOutputDirectory("videos");

    /// <summary>The shared photos in name order: photo k fills frames 5k … 5k+4.</summary>
    public static IReadOnlyList<string> Photos { get; } =
        System.IO.Directory.EnumerateFiles(TestAssets.SharedPath("images"), "*.jpg").Order(StringComparer.Ordinal).ToList();

    public static int FrameCount => Photos.Count * SecondsPerPhoto * Fps;

    /// <summary>clip.mp4: the photos as a slide show.</summary>
    public static string Clip => ClipLazy.Value;

    public static string RunFfmpeg(params string[] args) => ExternalTools.Run(Ffmpeg, TimeSpan.FromMinutes(2), Hint, ["-v", "error", "-nostdin", "-y", .. args]);

    private static string MakeClip()
    {
        if (Photos.Count < 3) throw new InvalidOperationException($"Expected the shared photos in {TestAssets.SharedPath("images")}; found {Photos.Count}.");
        var path = Path.Combine(Directory, "clip.mp4");
        var args = new List<string>();
        var filter = new System.Text.StringBuilder();
        for (int i = 0; i < Photos.Count; i++)
        {
            args.AddRange(["-loop", "1", "-framerate", Fps.ToString(CultureInfo.InvariantCulture), "-t", SecondsPerPhoto.ToString(CultureInfo.InvariantCulture), "-i", Photos[i]]);
            filter.Append(CultureInfo.InvariantCulture,
                $"[{i}:v]scale={Width}:{Height}:force_original_aspect_ratio=decrease,pad={Width}:{Height}:(ow-iw)/2:(oh-ih)/2,setsar=1[v{i}];");
        }
        args.AddRange(["-f", "lavfi", "-t", (Photos.Count * SecondsPerPhoto).ToString(CultureInfo.InvariantCulture), "-i", "anullsrc=r=44100:cl=mono"]);
        filter.Append(string.Concat(Enumerable.Range(0, Photos.Count).Select(i => $"[v{i}]"))).Append(CultureInfo.InvariantCulture, $"concat=n={Photos.Count}:v=1:a=0[out]");
        args.AddRange(["-filter_complex", filter.ToString(), "-map", "[out]", "-map", $"{Photos.Count}:a",
            "-c:v", "libx264", "-preset", "veryfast", "-g", "10", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path]);
        RunFfmpeg([.. args]);
        return path;
    }

    /// <summary>A copy of <see cref="Clip"/> in another container or with stream changes (ffmpeg options), made once.</summary>
    public static string Derived(string name, params string[] options)
    {
        var path = Path.Combine(Directory, name);
        lock (Made)
        {
            // Made afresh in each test run (a file left by an earlier run may come from another clip).
            if (Made.Add(name)) RunFfmpeg(["-i", Clip, .. options, path]);
        }
        return path;
    }

    private static readonly HashSet<string> Made = [];

    /// <summary>Every frame of a video as lossless PNGs frame000.png…, decoded by ffmpeg exactly as the CLI's reader decodes them.</summary>
    public static string ExtractFrames(string video, string folderName)
    {
        var dir = TestAssets.TestOutputDirectory(folderName);
        foreach (var old in System.IO.Directory.EnumerateFiles(dir)) File.Delete(old);
        RunFfmpeg("-i", video, "-map", "0:v:0", "-fps_mode", "passthrough", "-start_number", "0", Path.Combine(dir, "frame%03d.png"));
        return dir;
    }

    /// <summary>ffprobe's view of a video's first video stream, frames counted by decoding, plus its stream types.</summary>
    public static ProbedVideo Probe(string video)
    {
        var json = ExternalTools.Run(Ffprobe, TimeSpan.FromMinutes(2), Hint, "-v", "error", "-count_frames",
            "-show_entries", "stream=codec_type,codec_name,width,height,r_frame_rate,nb_read_frames", "-of", "json", video);
        using var doc = JsonDocument.Parse(json);
        var streams = doc.RootElement.GetProperty("streams").EnumerateArray().ToList();
        var v = streams.First(s => s.GetProperty("codec_type").GetString() == "video");
        return new ProbedVideo(v.GetProperty("codec_name").GetString()!, v.GetProperty("width").GetInt32(), v.GetProperty("height").GetInt32(),
            v.GetProperty("r_frame_rate").GetString()!, long.Parse(v.GetProperty("nb_read_frames").GetString()!, CultureInfo.InvariantCulture),
            streams.Select(s => s.GetProperty("codec_type").GetString()!).ToList());
    }
}

public sealed record ProbedVideo(string Codec, int Width, int Height, string FrameRate, long Frames, IReadOnlyList<string> StreamTypes);
