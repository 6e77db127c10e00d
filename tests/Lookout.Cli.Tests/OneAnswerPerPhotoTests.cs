using System.Net.Http.Headers;
using System.Text.Json;
using Lookout.Detection.Imaging;
using Lookout.Detection.Output;
using Lookout.Detection.Tests.Support;
using Lookout.Server.Tests;
using SkiaSharp;

namespace Lookout.Cli.Tests;

/// <summary>
/// One photo, one model, one set of options: one answer, whichever route or CLI mode asks and whatever is drawn.
/// The photos are chosen so that each reduced JPEG decode scale is taken for the 416-pixel default model (full,
/// 1/2, 1/4 and 1/8 with halving steps); the two that are not in ../shared are made from its photos with Skia.
/// </summary>
public sealed class OneAnswerPerPhotoTests(DefaultServerFixture fixture) : IClassFixture<DefaultServerFixture>
{
    // The original route's threshold (SeedCompatEndpoints.SeedConfidence), so every route can be asked the same question.
    private const string ConfText = "0.25";

    public static TheoryData<string, int, int> Photos => new()
    {
        // name, width, decoded width with halving steps for a 416 model
        { "dog.jpg", 768, 768 },
        { "wedding-1274.jpg", 1274, 637 },
        { "street.jpg", 2380, 595 },
        { "street-4000.jpg", 4000, 500 },
    };

    [Theory]
    [MemberData(nameof(Photos))]
    public async Task Every_route_and_cli_mode_gives_the_same_detections(string name, int width, int halvedWidth)
    {
        var path = Photo(name);
        var bytes = await File.ReadAllBytesAsync(path);
        using (var halved = new ImageDecoder().Decode(bytes, 416, JpegScaleSteps.PowersOfTwo))
        {
            Assert.Equal(width, halved.OriginalWidth);
            Assert.Equal(halvedWidth, halved.Width);
        }
        var client = fixture.Server.Client;

        var plain = await ApiJsonAsync(client, bytes, "");
        Assert.True(plain.Boxes.Count > 0, $"{name}: nothing found, the comparison would be empty");
        var annotated = await ApiJsonAsync(client, bytes, "&annotate=true");
        var answers = new List<(string Route, IReadOnlyList<Box> Boxes)>
        {
            ("/api/v1/detect annotate=true", annotated.Boxes),
            ("POST /v1/vision/detection", await DeepStackAsync(client, bytes, "/v1/vision/detection")),
            ("POST /v1/vision/custom/yolox-nano", await DeepStackAsync(client, bytes, "/v1/vision/custom/yolox-nano")),
        };

        var cliJson = await CliRunner.RunAsync("detect", path, "--json", "--conf", ConfText);
        Assert.True(cliJson.ExitCode == 0, cliJson.ToString());
        answers.Add(("lookout detect --json", Boxes(Assert.Single(ResultJson.DeserializeArray(cliJson.Stdout)!))));
        var outDir = TestAssets.TestOutputDirectory("one-answer-cli-out");
        var cliOut = await CliRunner.RunAsync("detect", path, "--json", "--conf", ConfText, "--out", outDir);
        Assert.True(cliOut.ExitCode == 0, cliOut.ToString());
        answers.Add(("lookout detect --json --out", Boxes(Assert.Single(ResultJson.DeserializeArray(cliOut.Stdout)!))));

        var reference = plain.Boxes;
        foreach (var (route, boxes) in answers) AssertSame(reference, boxes, $"{name}: {route} against /api/v1/detect");

        // The annotated JPEG is drawn from the detections: the same picture from the JSON route, from
        // Accept: image/jpeg and from the original route means the same boxes were drawn (those routes return no
        // JSON detections to compare). It is drawn on the photo at full size.
        var drawn = Convert.FromBase64String(annotated.AnnotatedImage!["data:image/jpeg;base64,".Length..]);
        var (_, w, h, _) = new ImageDecoder().ReadHeader(drawn);
        Assert.Equal((width, plain.Height), (plain.Width, h));
        Assert.Equal(width, w);

        using var jpegRequest = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/detect?conf={ConfText}")
        {
            Content = LookoutTestServer.Form("image", bytes),
        };
        jpegRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/jpeg"));
        using var jpegResponse = await client.SendAsync(jpegRequest);
        Assert.True(jpegResponse.IsSuccessStatusCode, await jpegResponse.Content.ReadAsStringAsync());
        Assert.Equal(plain.Boxes.Count.ToString(), jpegResponse.Headers.GetValues("X-Lookout-Detections").Single());
        var jpegBody = await jpegResponse.Content.ReadAsByteArrayAsync();
        Assert.True(drawn.SequenceEqual(jpegBody),
            $"{name}: Accept: image/jpeg drew a different picture than annotate=true");

        using var seed = await client.PostAsync("/", LookoutTestServer.Form("file", bytes));
        Assert.True(seed.IsSuccessStatusCode, await seed.Content.ReadAsStringAsync());
        using var seedJson = JsonDocument.Parse(await seed.Content.ReadAsStringAsync());
        var seedImage = Convert.FromBase64String(seedJson.RootElement.GetProperty("image").GetString()!["data:image/jpeg;base64, ".Length..]);
        Assert.True(drawn.SequenceEqual(seedImage), $"{name}: POST / drew a different picture than /api/v1/detect annotate=true");
    }

    private sealed record Box(string Label, float Score, double X1, double Y1, double X2, double Y2, double Tolerance);

    private static IReadOnlyList<Box> Boxes(DetectionResultDto result) =>
        // The JSON rounds corners to 0.1 px and scores to 4 decimals.
        result.Detections.Select(d => new Box(d.Label, (float)d.Score, d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2, 0.05)).ToList();

    private static void AssertSame(IReadOnlyList<Box> expected, IReadOnlyList<Box> actual, string what)
    {
        string Show(IReadOnlyList<Box> boxes) => string.Join("; ", boxes.Select(b => $"{b.Label} {b.Score:0.0000} ({b.X1:0.0},{b.Y1:0.0},{b.X2:0.0},{b.Y2:0.0})"));
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} detections against {expected.Count}\n  got      {Show(actual)}\n  expected {Show(expected)}");
        // Both lists are in descending score order; equal scores (ties) may come in either order, so pair greedily.
        var unused = actual.ToList();
        foreach (var e in expected)
        {
            var match = unused.FirstOrDefault(a => a.Label == e.Label && Math.Abs(a.Score - e.Score) <= 1.01e-4
                && Near(a.X1, e.X1, a, e) && Near(a.Y1, e.Y1, a, e) && Near(a.X2, e.X2, a, e) && Near(a.Y2, e.Y2, a, e));
            Assert.True(match is not null, $"{what}: no match for {Show([e])}\n  got      {Show(actual)}\n  expected {Show(expected)}");
            unused.Remove(match);
        }
    }

    // Boxes within 0.5 px, plus what each side's format rounds away.
    private static bool Near(double a, double b, Box ab, Box bb) => Math.Abs(a - b) <= 0.5 + ab.Tolerance + bb.Tolerance;

    private sealed record ApiAnswer(int Width, int Height, IReadOnlyList<Box> Boxes, string? AnnotatedImage);

    private static async Task<ApiAnswer> ApiJsonAsync(HttpClient client, byte[] bytes, string query)
    {
        using var response = await client.PostAsync($"/api/v1/detect?conf={ConfText}{query}", LookoutTestServer.Form("image", bytes));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        var boxes = root.GetProperty("detections").EnumerateArray().Select(d =>
        {
            var b = d.GetProperty("box");
            return new Box(d.GetProperty("label").GetString()!, d.GetProperty("score").GetSingle(),
                b.GetProperty("x1").GetDouble(), b.GetProperty("y1").GetDouble(), b.GetProperty("x2").GetDouble(), b.GetProperty("y2").GetDouble(), 0.05);
        }).ToList();
        return new ApiAnswer(root.GetProperty("image").GetProperty("width").GetInt32(), root.GetProperty("image").GetProperty("height").GetInt32(),
            boxes, root.TryGetProperty("annotated_image", out var a) ? a.GetString() : null);
    }

    private static async Task<IReadOnlyList<Box>> DeepStackAsync(HttpClient client, byte[] bytes, string route)
    {
        using var response = await client.PostAsync(route, LookoutTestServer.Form("image", bytes, fields: ("min_confidence", ConfText)));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var json = JsonDocument.Parse(text);
        Assert.True(json.RootElement.GetProperty("success").GetBoolean(), text);
        // DeepStack's corners are whole pixels (rounded): 0.5 px of rounding on top of the tolerance.
        return json.RootElement.GetProperty("predictions").EnumerateArray().Select(p => new Box(
            p.GetProperty("label").GetString()!, p.GetProperty("confidence").GetSingle(),
            p.GetProperty("x_min").GetInt32(), p.GetProperty("y_min").GetInt32(),
            p.GetProperty("x_max").GetInt32(), p.GetProperty("y_max").GetInt32(), 0.5)).ToList();
    }

    /// <summary>The photo's path: the shared samples as they are, or made from them once per run.</summary>
    private static string Photo(string name) => name switch
    {
        "wedding-1274.jpg" => Resized("wedding.jpg", 1274, 717, name),
        "street-4000.jpg" => Resized("street.jpg", 4000, 2655, name),
        _ => TestAssets.PathOf(name),
    };

    private static readonly Lock Making = new();

    private static string Resized(string source, int width, int height, string name)
    {
        var path = Path.Combine(TestAssets.TestOutputDirectory("one-answer-photos"), name);
        lock (Making)
        {
            if (File.Exists(path)) return path;
            using var original = ImageFactory.DecodeRgba(TestAssets.Bytes(source));
            using var resized = original.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul),
                new SKSamplingOptions(SKCubicResampler.Mitchell));
            File.WriteAllBytes(path + ".tmp", ImageFactory.Encode(resized, SKEncodedImageFormat.Jpeg, 92));
            File.Move(path + ".tmp", path, overwrite: true);
        }
        return path;
    }
}
