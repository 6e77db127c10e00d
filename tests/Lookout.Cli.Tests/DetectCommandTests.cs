using System.Globalization;
using Lookout.Detection.Imaging;
using Lookout.Detection.Output;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

public sealed class DetectCommandTests
{
    private static string Images => TestAssets.SharedPath("images");
    private static string Dog => TestAssets.SharedPath("images", "dog.jpg");

    [Fact]
    public async Task Detect_folder_with_out_writes_one_valid_jpeg_per_image_at_the_input_size()
    {
        var outDir = TestAssets.TestOutputDirectory("cli-detect-out");
        foreach (var old in Directory.EnumerateFiles(outDir)) File.Delete(old);

        var run = await CliRunner.RunAsync("detect", Images, "--out", outDir);

        Assert.True(run.ExitCode == 0, run.ToString());
        var inputs = Directory.EnumerateFiles(Images, "*.jpg").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(5, inputs.Count);
        var decoder = new ImageDecoder();
        foreach (var input in inputs)
        {
            var output = Path.Combine(outDir, Path.GetFileName(input));
            Assert.True(File.Exists(output), $"{output} missing; {run}");
            var (format, w, h, _) = decoder.ReadHeader(File.ReadAllBytes(output));
            var (_, iw, ih, _) = decoder.ReadHeader(File.ReadAllBytes(input));
            Assert.Equal(ImageFormat.Jpeg, format);
            Assert.Equal((iw, ih), (w, h));
            using var decoded = decoder.Decode(File.ReadAllBytes(output)); // decodes fully, not just a header
        }
        Assert.Contains("5 ok", run.Console);
    }

    [Fact]
    public async Task Detect_json_lists_dog_bicycle_and_car_for_dog_jpg()
    {
        var run = await CliRunner.RunAsync("detect", Images, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var results = ResultJson.DeserializeArray(run.Stdout);
        Assert.NotNull(results);
        Assert.Equal(5, results.Count);
        var dog = Assert.Single(results, r => Path.GetFileName(r.File) == "dog.jpg");
        Assert.Equal("yolox-nano", dog.Model);
        Assert.Equal(new ImageSizeDto(768, 576), dog.Image);
        foreach (var label in new[] { "dog", "bicycle", "car" })
            Assert.Contains(dog.Detections, d => d.Label == label && d.Score > 0.7);
        var dogDetection = dog.Detections.First(d => d.Label == "dog");
        Assert.Equal(16, dogDetection.ClassId);
        Assert.InRange(dogDetection.Box.X1, 129, 137);
        Assert.InRange(dogDetection.Box.Y2, 539, 547);
        Assert.True(dog.Timings.TotalMs > 0);
        // snake_case names, as the server will also serve them
        Assert.Contains("\"class_id\"", run.Stdout);
        Assert.Contains("\"inference_ms\"", run.Stdout);
    }

    [Fact]
    public async Task Detect_jsonl_writes_one_line_per_image()
    {
        var run = await CliRunner.RunAsync("detect", Dog, TestAssets.SharedPath("images", "street.jpg"), "--jsonl");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.NotNull(ResultJson.Deserialize(l)));
    }

    [Fact]
    public async Task Detect_csv_has_the_header_and_fractional_centre_boxes()
    {
        var run = await CliRunner.RunAsync("detect", Dog, "--csv");

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("file,class,confidence,bx,by,bw,bh,x1,y1,x2,y2", lines[0]);
        var dogRow = lines.Skip(1).Select(l => l.Split(',')).First(f => f[1] == "dog");
        Assert.Equal(Dog, dogRow[0]);
        double F(int i) => double.Parse(dogRow[i], CultureInfo.InvariantCulture);
        // dog (133,206)-(326,543) in 768×576: centre (0.30, 0.65), size (0.25, 0.58)
        Assert.Equal(0.30, F(3), 2);
        Assert.Equal(0.65, F(4), 2);
        Assert.Equal(0.25, F(5), 2);
        Assert.Equal(0.58, F(6), 2);
        Assert.All(new[] { 3, 4, 5, 6 }, i => Assert.Matches(@"^\d\.\d\d$", dogRow[i]));
        Assert.InRange(F(7), 129, 137);
    }

    [Fact]
    public async Task Detect_reports_a_bad_file_skips_it_and_exits_2()
    {
        var dir = TestAssets.TestOutputDirectory("cli-bad-file");
        File.WriteAllText(Path.Combine(dir, "bad.jpg"), "this is a text file, not a JPEG\n");
        File.Copy(Dog, Path.Combine(dir, "dog.jpg"), overwrite: true);

        var run = await CliRunner.RunAsync("detect", dir, "--json");

        Assert.True(run.ExitCode == 2, run.ToString());
        var result = Assert.Single(ResultJson.DeserializeArray(run.Stdout)!);
        Assert.EndsWith("dog.jpg", result.File);
        Assert.Contains(result.Detections, d => d.Label == "dog");
        var errorLine = run.Console.Split('\n').Single(l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("bad.jpg", errorLine);
        Assert.Contains("not a supported image", errorLine);
        Assert.DoesNotContain("   at ", run.Console); // no stack trace
    }

    [Fact]
    public async Task Detect_classes_keeps_only_the_named_classes()
    {
        var byName = await CliRunner.RunAsync("detect", Dog, "--classes", "dog", "--json");
        var byId = await CliRunner.RunAsync("detect", Dog, "--classes", "16,2", "--json");

        Assert.True(byName.ExitCode == 0, byName.ToString());
        var dog = Assert.Single(ResultJson.DeserializeArray(byName.Stdout)!);
        Assert.NotEmpty(dog.Detections);
        Assert.All(dog.Detections, d => Assert.Equal("dog", d.Label));
        var both = Assert.Single(ResultJson.DeserializeArray(byId.Stdout)!);
        Assert.Equal(["car", "dog"], both.Detections.Select(d => d.Label).Distinct().Order());
    }

    [Fact]
    public async Task Detect_unknown_class_exits_1_and_lists_the_valid_ones()
    {
        var run = await CliRunner.RunAsync("detect", Dog, "--classes", "dog,unicorn");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Unknown class 'unicorn'", run.Console);
        Assert.Contains("dog (16)", run.Console);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task Detect_missing_path_is_reported_with_exit_2_and_bad_option_values_with_exit_1()
    {
        var missing = await CliRunner.RunAsync("detect", Dog, "no/such/file.jpg");
        Assert.True(missing.ExitCode == 2, missing.ToString());
        Assert.Contains("no/such/file.jpg: no such file or folder", missing.Console);

        var badConf = await CliRunner.RunAsync("detect", Dog, "--conf", "2");
        Assert.Equal(1, badConf.ExitCode);
        Assert.Contains("--conf must be between 0 and 1", badConf.Console);

        var unknownModel = await CliRunner.RunAsync("detect", Dog, "--model", "yolo-huge");
        Assert.Equal(1, unknownModel.ExitCode);
        Assert.Contains("Known models:", unknownModel.Console);
    }
}
