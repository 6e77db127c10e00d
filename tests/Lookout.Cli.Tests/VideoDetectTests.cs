using System.Diagnostics;
using Lookout.Detection.Output;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

/// <summary>
/// <c>lookout detect</c> on videos made in the test from the shared photos (<see cref="TestVideos"/>), read through
/// the real ffmpeg. Every frame goes through the same Detector as a photo, which the first test proves frame by frame.
/// </summary>
public sealed class VideoDetectTests
{
    private static List<DetectionResultDto> ParseLines(string jsonl) =>
        jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => ResultJson.Deserialize(l) ?? throw new InvalidOperationException($"Not a result line: {l}")).ToList();

    private static void AssertSameDetections(DetectionResultDto expected, DetectionResultDto actual, string what)
    {
        Assert.True(expected.Image == actual.Image, $"{what}: size {actual.Image} instead of {expected.Image}");
        Assert.True(expected.Detections.SequenceEqual(actual.Detections),
            $"{what}: detections differ\nexpected {string.Join("; ", expected.Detections)}\nactual   {string.Join("; ", actual.Detections)}");
    }

    [Fact]
    public async Task Every_frame_of_a_video_gets_the_detections_of_the_same_frame_decoded_as_a_png()
    {
        var video = await CliRunner.RunAsync("detect", TestVideos.Clip, "--jsonl", "--conf", "0.1");
        Assert.True(video.ExitCode == 0, video.ToString());
        var frames = ParseLines(video.Stdout);

        var pngDir = TestVideos.ExtractFrames(TestVideos.Clip, "video-frames-png");
        var photos = await CliRunner.RunAsync("detect", pngDir, "--jsonl", "--conf", "0.1");
        Assert.True(photos.ExitCode == 0, photos.ToString());
        var pngs = ParseLines(photos.Stdout);

        Assert.Equal(TestVideos.FrameCount, pngs.Count);
        Assert.Equal(TestVideos.FrameCount, frames.Count);
        int withObjects = 0;
        for (int i = 0; i < frames.Count; i++)
        {
            Assert.Equal(i, frames[i].Frame);
            Assert.Equal(i / (double)TestVideos.Fps, frames[i].Time!.Value, 3);
            Assert.Equal(TestVideos.Clip, frames[i].File);
            Assert.EndsWith($"frame{i:000}.png", pngs[i].File);
            Assert.Null(pngs[i].Frame); // photos carry no frame fields
            AssertSameDetections(pngs[i], frames[i], $"frame {i}");
            if (frames[i].Detections.Count > 0) withObjects++;
        }
        // The comparison means something only if the frames hold objects: dog.jpg, street.jpg… do.
        Assert.True(withObjects >= 3 * TestVideos.Fps, $"only {withObjects} frames with objects");
        Assert.Contains(frames, f => f.Detections.Any(d => d.Label == "dog" && d.Score > 0.6));
        Assert.DoesNotContain("\"frame\"", photos.Stdout);
    }

    [Fact]
    public async Task Vid_stride_processes_every_nth_frame_with_the_same_detections_as_stride_one()
    {
        var all = ParseLines((await CliRunner.RunAsync("detect", TestVideos.Clip, "--jsonl")).Stdout);
        var run = await CliRunner.RunAsync("detect", TestVideos.Clip, "--jsonl", "--vid-stride", "3");

        Assert.True(run.ExitCode == 0, run.ToString());
        var strided = ParseLines(run.Stdout);
        var expectedFrames = Enumerable.Range(0, TestVideos.FrameCount).Where(i => i % 3 == 0).Select(i => (long)i).ToList();
        Assert.Equal(expectedFrames, strided.Select(f => f.Frame!.Value).ToList());
        Assert.Equal(TestVideos.FrameCount, all.Count);
        foreach (var f in strided) AssertSameDetections(all[(int)f.Frame!.Value], f, $"frame {f.Frame}");
        Assert.Contains($"{TestVideos.FrameCount / 3 + 1} processed (--vid-stride 3)", run.Console);
    }

    [Fact]
    public async Task Out_writes_an_annotated_h264_video_with_the_source_frame_count_size_and_rate_and_no_audio_plus_the_jsonl()
    {
        var outDir = TestAssets.TestOutputDirectory("video-out");
        foreach (var old in Directory.EnumerateFiles(outDir)) File.Delete(old);
        var source = TestVideos.Probe(TestVideos.Clip);
        Assert.Contains("audio", source.StreamTypes); // the test clip has a sound track to drop

        var run = await CliRunner.RunAsync("detect", TestVideos.Clip, "--out", outDir, "--vid-stride", "2");

        Assert.True(run.ExitCode == 0, run.ToString());
        var annotated = TestVideos.Probe(Path.Combine(outDir, "clip.mp4"));
        Assert.Equal(("h264", TestVideos.Width, TestVideos.Height, "5/1", (long)TestVideos.FrameCount),
            (annotated.Codec, annotated.Width, annotated.Height, annotated.FrameRate, annotated.Frames));
        Assert.Equal((source.Width, source.Height, source.FrameRate, source.Frames), (annotated.Width, annotated.Height, annotated.FrameRate, annotated.Frames));
        Assert.Equal(["video"], annotated.StreamTypes);
        var lines = ParseLines(File.ReadAllText(Path.Combine(outDir, "clip.jsonl")));
        Assert.Equal(Enumerable.Range(0, TestVideos.FrameCount).Where(i => i % 2 == 0).Select(i => (long?)i), lines.Select(l => l.Frame));

        // The boxes are drawn: the annotated frames differ from the source frames where objects were found.
        var drawn = TestVideos.ExtractFrames(Path.Combine(outDir, "clip.mp4"), "video-out-frames");
        var plain = TestVideos.ExtractFrames(TestVideos.Clip, "video-frames-png");
        int busiest = lines.OrderByDescending(l => l.Detections.Count).First().Frame is { } f ? (int)f : 0;
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(plain, $"frame{busiest:000}.png")), File.ReadAllBytes(Path.Combine(drawn, $"frame{busiest:000}.png")));
    }

    [Fact]
    public async Task A_phone_video_rotated_90_degrees_is_read_upright()
    {
        var rotated = TestVideos.Derived("rotated.mp4", "-c", "copy", "-metadata:s:v", "rotate=90");
        var outDir = TestAssets.TestOutputDirectory("video-rotated-out");
        foreach (var old in Directory.EnumerateFiles(outDir)) File.Delete(old);

        var run = await CliRunner.RunAsync("detect", rotated, "--jsonl", "--vid-stride", "5", "--out", outDir);

        Assert.True(run.ExitCode == 0, run.ToString());
        var frames = ParseLines(run.Stdout);
        Assert.All(frames, f => Assert.Equal(new ImageSizeDto(TestVideos.Height, TestVideos.Width), f.Image));
        var annotated = TestVideos.Probe(Path.Combine(outDir, "rotated.mp4"));
        Assert.Equal((TestVideos.Height, TestVideos.Width, (long)TestVideos.FrameCount), (annotated.Width, annotated.Height, annotated.Frames));
    }

    [Fact]
    public async Task Mkv_and_webm_are_read_too_and_folders_mix_photos_and_videos()
    {
        var folder = TestAssets.TestOutputDirectory("video-mixed-folder");
        foreach (var old in Directory.EnumerateFiles(folder)) File.Delete(old);
        File.Copy(TestAssets.SharedPath("images", "dog.jpg"), Path.Combine(folder, "dog.jpg"));
        File.Copy(TestVideos.Derived("clip.mkv", "-c", "copy"), Path.Combine(folder, "clip.mkv"));
        File.Copy(TestVideos.Derived("clip.webm", "-an", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"), Path.Combine(folder, "clip.webm"));

        var run = await CliRunner.RunAsync("detect", folder, "--jsonl", "--vid-stride", "5");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = ParseLines(run.Stdout);
        var perFile = lines.GroupBy(l => Path.GetFileName(l.File!)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(["clip.mkv", "clip.webm", "dog.jpg"], perFile.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TestVideos.FrameCount / 5, perFile["clip.mkv"].Count);
        Assert.Equal(TestVideos.FrameCount / 5, perFile["clip.webm"].Count);
        Assert.Null(Assert.Single(perFile["dog.jpg"]).Frame);
        Assert.Contains(perFile["clip.webm"], f => f.Detections.Any(d => d.Label == "dog"));
    }

    [Fact]
    public async Task A_truncated_video_reports_a_clear_error_after_the_frames_that_could_be_read()
    {
        // Index first (faststart), then cut: the frames before the cut are readable, the rest is gone.
        var whole = TestVideos.Derived("faststart.mp4", "-c", "copy", "-movflags", "+faststart");
        var bytes = File.ReadAllBytes(whole);
        var truncated = Path.Combine(TestVideos.Directory, "truncated.mp4");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length * 6 / 10)]);

        var run = await CliRunner.RunAsync("detect", truncated, "--jsonl");

        Assert.True(run.ExitCode == 2, run.ToString());
        var frames = ParseLines(run.Stdout);
        Assert.InRange(frames.Count, 1, TestVideos.FrameCount - 1);
        Assert.Equal(Enumerable.Range(0, frames.Count).Select(i => (long?)i), frames.Select(f => f.Frame));
        Assert.Contains($"error: {truncated}: damaged or truncated video: the video ends after {frames.Count} of the {TestVideos.FrameCount} frames it declares", run.Console);
        Assert.DoesNotContain(" @ 0x", run.Console); // ffmpeg's internal component tags are not for users
    }

    [Fact]
    public async Task A_truncated_mkv_which_declares_no_frame_count_is_judged_by_ffmpeg_errors()
    {
        var bytes = File.ReadAllBytes(TestVideos.Derived("clip.mkv", "-c", "copy"));
        var truncated = Path.Combine(TestVideos.Directory, "truncated.mkv");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length * 6 / 10)]);

        var run = await CliRunner.RunAsync("detect", truncated, "--jsonl");

        Assert.True(run.ExitCode == 2, run.ToString());
        var frames = ParseLines(run.Stdout);
        Assert.InRange(frames.Count, 1, TestVideos.FrameCount - 1);
        Assert.Contains($"error: {truncated}: damaged or truncated video: ffmpeg reported errors while decoding ({frames.Count} frames read): File ended prematurely", run.Console);
    }

    [Fact]
    public async Task An_annotated_video_never_overwrites_its_source()
    {
        var folder = TestAssets.TestOutputDirectory("video-same-folder");
        var source = Path.Combine(folder, "clip.mp4");
        File.Copy(TestVideos.Clip, source, overwrite: true);
        var before = File.ReadAllBytes(source);

        var run = await CliRunner.RunAsync("detect", source, "--out", folder);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("would overwrite the input", run.Console);
        Assert.Equal(before, File.ReadAllBytes(source));
    }

    [Fact]
    public async Task A_video_named_like_a_protocol_or_an_option_is_read_as_a_local_file()
    {
        var folder = TestAssets.TestOutputDirectory("video-odd-names");
        foreach (var old in Directory.EnumerateFiles(folder)) File.Delete(old);
        File.Copy(TestVideos.Clip, Path.Combine(folder, "http:clip.mp4"));
        File.Copy(TestVideos.Clip, Path.Combine(folder, "-y clip.mp4"));

        var run = await CliRunner.RunAsync("detect", folder, "--jsonl", "--vid-stride", "25");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["-y clip.mp4", "http:clip.mp4"], ParseLines(run.Stdout).Select(l => Path.GetFileName(l.File!)).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("[{\"width\":1920,\"height\":1080,\"avg_frame_rate\":\"30000/1001\",\"nb_frames\":\"300\",\"side_data_list\":[{\"rotation\":-90}]}]", 1080, 1920, 300L)]
    [InlineData("[{\"width\":1920,\"height\":1080,\"avg_frame_rate\":\"0/0\",\"r_frame_rate\":\"25/1\",\"tags\":{\"rotate\":\"180\"}}]", 1920, 1080, 250L)]
    public void Ffprobe_output_gives_the_upright_size_the_rate_and_the_frame_count(string streams, int width, int height, long frames)
    {
        var info = Lookout.Cli.Video.VideoProbe.Parse($"{{\"streams\":{streams},\"format\":{{\"duration\":\"10.0\"}}}}");

        Assert.NotNull(info);
        Assert.Equal((width, height), (info.Width, info.Height));
        Assert.Equal(frames, info.ExpectedFrames);
        Assert.True(info.FramesPerSecond is > 24.9 and < 30.1, info.ToString());
        Assert.Null(Lookout.Cli.Video.VideoProbe.Parse("{\"streams\":[]}"));
    }

    [Fact]
    public async Task A_file_that_is_no_video_fails_alone_with_a_clear_message()
    {
        var notVideo = Path.Combine(TestVideos.Directory, "notes.mp4");
        File.WriteAllText(notVideo, "these are meeting notes, not a video\n");

        var run = await CliRunner.RunAsync("detect", notVideo, TestAssets.SharedPath("images", "dog.jpg"), "--jsonl");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains($"error: {notVideo}: not a video ffmpeg can read: Invalid data found when processing input", run.Console);
        Assert.Single(ParseLines(run.Stdout)); // dog.jpg still processed
    }

    [Fact]
    public async Task Ctrl_c_stops_cleanly_keeping_a_valid_annotated_video_of_every_frame_in_the_jsonl()
    {
        // The clip 40 times over (copied, not re-encoded): far longer than the test waits.
        var longVideo = Path.Combine(TestVideos.Directory, "long.mp4");
        TestVideos.RunFfmpeg("-stream_loop", "40", "-i", TestVideos.Clip, "-c", "copy", "-an", longVideo);
        long sourceFrames = TestVideos.FrameCount * 41L;
        var outDir = TestAssets.TestOutputDirectory("video-ctrl-c");
        foreach (var old in Directory.EnumerateFiles(outDir)) File.Delete(old);
        var jsonlPath = Path.Combine(outDir, "long.jsonl");

        using var process = LookoutProcess.Start(["detect", longVideo, "--out", outDir], defaultSigint: true);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (CountLines(jsonlPath) < 5)
        {
            if (process.HasExited) Assert.Fail($"lookout ended before it was interrupted: exit {process.ExitCode}\n{await stdout}\n{await stderr}");
            Assert.True(DateTime.UtcNow < deadline, "no 5 frames processed within 2 minutes");
            await Task.Delay(100);
        }

        // SIGINT, what a terminal sends on Ctrl-C (to this process only; ffmpeg runs in its own session anyway).
        ExternalTools.Run("/bin/kill", "-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "lookout did not stop within a minute of Ctrl-C");

        var output = $"{await stdout}\n{await stderr}";
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}\n{output}");
        Assert.Contains("stopped by Ctrl-C", output);
        var lines = ParseLines(File.ReadAllText(jsonlPath));
        Assert.InRange(lines.Count, 5, sourceFrames - 1);
        Assert.Equal(Enumerable.Range(0, lines.Count).Select(i => (long?)i), lines.Select(l => l.Frame));
        var annotated = TestVideos.Probe(Path.Combine(outDir, "long.mp4"));
        Assert.Equal((TestVideos.Width, TestVideos.Height, "5/1", (long)lines.Count), (annotated.Width, annotated.Height, annotated.FrameRate, annotated.Frames));
    }

    private static int CountLines(string path)
    {
        if (!File.Exists(path)) return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Count(c => c == '\n');
    }

    [Fact]
    public async Task Without_ffmpeg_on_path_one_message_says_how_to_install_it()
    {
        var emptyPath = TestAssets.TestOutputDirectory("video-no-ffmpeg-path");
        var run = await LookoutProcess.RunAsync(["detect", TestVideos.Clip, "--jsonl"], path: emptyPath, TimeSpan.FromMinutes(2));

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Equal("", run.Stdout);
        // One message (the console may wrap it at its width), before any model is loaded.
        var message = string.Join(' ', run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal($"error: {TestVideos.Clip}: videos are read with ffmpeg; ffmpeg is not on PATH. Install it: sudo apt-get install -y ffmpeg", message);
    }
}

/// <summary>Runs the built CLI (lookout.dll beside the tests) as a separate process, for what in-process runs cannot show: PATH, signals.</summary>
public static class LookoutProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }

    public static string Dotnet { get; } =
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p
        : Lookout.Cli.Video.Ffmpeg.FindOnPath("dotnet") ?? throw new InvalidOperationException("dotnet is not on PATH");

    /// <param name="defaultSigint">
    /// Start through coreutils' <c>env --default-signal=INT</c>: a test host started in the background inherits
    /// SIGINT as ignored, its children with it, and .NET then never sees Ctrl-C; a terminal's foreground job does.
    /// </param>
    public static Process Start(IEnumerable<string> args, string? path = null, bool defaultSigint = false)
    {
        var psi = new ProcessStartInfo(defaultSigint ? "/usr/bin/env" : Dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (defaultSigint)
        {
            psi.ArgumentList.Add("--default-signal=INT");
            psi.ArgumentList.Add(Dotnet);
        }
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "lookout.dll"));
        var list = args.ToList();
        psi.ArgumentList.Add(list[0]);
        foreach (var d in TestAssets.AssetDirectories) { psi.ArgumentList.Add("--asset-dir"); psi.ArgumentList.Add(d); }
        psi.ArgumentList.Add("--offline");
        foreach (var a in list.Skip(1)) psi.ArgumentList.Add(a);
        if (path is not null) psi.Environment["PATH"] = path;
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["NO_COLOR"] = "1";
        return Process.Start(psi)!;
    }

    public static async Task<Result> RunAsync(IEnumerable<string> args, string? path, TimeSpan timeout)
    {
        using var process = Start(args, path);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(true);
            throw new TimeoutException($"lookout {string.Join(' ', args)} took over {timeout.TotalSeconds:0} s");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
