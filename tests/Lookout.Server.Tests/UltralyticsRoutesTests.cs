using System.Net;
using System.Text.Json;
using Lookout.Detection;
using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Detection.Tests.Support;
using Lookout.Detection.Tests.Ultralytics;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Lookout.Server.Tests;

/// <summary>
/// The two real Ultralytics YOLOv8n exports in a models folder, the float one as the server's default, over
/// loopback HTTP: every route answers, and each answer agrees with the independent Ultralytics implementation
/// (ultralytics_reference.py: OpenCV letterbox, numpy decoding) on dog.jpg: same objects, IoU ≥ 0.9, scores ±0.02.
/// </summary>
public sealed class UltralyticsRoutesFixture : IAsyncLifetime
{
    public const string Float = "yolov8n_fp32";
    public const string Int8 = "yolov8n_dynamic_int8";

    private readonly string _folder = Directory.CreateTempSubdirectory("lookout-ultralytics-routes-").FullName;

    public LookoutTestServer Server { get; private set; } = null!;
    public byte[] Dog { get; } = TestAssets.Bytes("dog.jpg");
    public Dictionary<string, IReadOnlyList<ReferenceDetection>> Reference { get; } = new();

    public async Task InitializeAsync()
    {
        foreach (var name in new[] { Float, Int8 })
        {
            var source = TestAssets.SharedPath("models", "ultralytics", name + ".onnx");
            // Write-then-rename, as operators are told to.
            var temp = Path.Combine(_folder, "." + name + ".tmp");
            File.Copy(source, temp);
            File.Move(temp, Path.Combine(_folder, name + ".onnx"));
            using var bare = new InferenceSession(source);
            Reference[name] = UltralyticsReference.Detect(bare, TestAssets.PathOf("dog.jpg"), 640, 640, 0.25f, DetectionOptions.DefaultIou);
        }
        Server = await LookoutTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lookout:ModelDirectories:0"] = _folder,
            ["Lookout:Model"] = Float,
        });
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}

public sealed class UltralyticsRoutesTests(UltralyticsRoutesFixture fixture, ITestOutputHelper output) : IClassFixture<UltralyticsRoutesFixture>
{
    private HttpClient Client => fixture.Server.Client;

    private sealed record Found(string Label, double Score, BoundingBox Box);

    [Theory]
    [InlineData(UltralyticsRoutesFixture.Float)]
    [InlineData(UltralyticsRoutesFixture.Int8)]
    public async Task Api_detect_with_model_agrees_with_the_reference(string model)
    {
        using var response = await Client.PostAsync($"/api/v1/detect?model={model}&conf=0.25", LookoutTestServer.Form("image", fixture.Dog));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(model, root.GetProperty("model").GetString());
        var found = root.GetProperty("detections").EnumerateArray().Select(d =>
        {
            var b = d.GetProperty("box");
            return new Found(d.GetProperty("label").GetString()!, d.GetProperty("score").GetDouble(),
                new BoundingBox(b.GetProperty("x1").GetSingle(), b.GetProperty("y1").GetSingle(), b.GetProperty("x2").GetSingle(), b.GetProperty("y2").GetSingle()));
        }).ToList();
        AssertAgrees(found, fixture.Reference[model], $"/api/v1/detect model={model}");
    }

    [Theory]
    [InlineData(UltralyticsRoutesFixture.Float)]
    [InlineData(UltralyticsRoutesFixture.Int8)]
    public async Task DeepStack_custom_route_agrees_with_the_reference(string model)
    {
        using var response = await Client.PostAsync($"/v1/vision/custom/{model}",
            LookoutTestServer.Form("image", fixture.Dog, fields: ("min_confidence", "0.25")));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        AssertAgrees(DeepStackPredictions(body), fixture.Reference[model], $"/v1/vision/custom/{model}");
    }

    [Fact]
    public async Task Routes_without_a_model_name_use_the_folder_default_and_agree()
    {
        using (var response = await Client.PostAsync("/v1/vision/detection", LookoutTestServer.Form("image", fixture.Dog, fields: ("min_confidence", "0.25"))))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            AssertAgrees(DeepStackPredictions(body), fixture.Reference[UltralyticsRoutesFixture.Float], "/v1/vision/detection");
        }
        using (var response = await Client.PostAsync("/api/v1/detect?conf=0.25", LookoutTestServer.Form("image", fixture.Dog)))
        {
            var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(UltralyticsRoutesFixture.Float, root.GetProperty("model").GetString());
        }
        // The original route draws the answer: a JPEG of the upload's size.
        using (var response = await Client.PostAsync("/", LookoutTestServer.Form("file", fixture.Dog)))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            var image = JsonDocument.Parse(body).RootElement.GetProperty("image").GetString()!;
            var jpeg = Convert.FromBase64String(image[(image.IndexOf(',') + 1)..].Trim());
            var (format, width, height, _) = new ImageDecoder().ReadHeader(jpeg);
            Assert.Equal((ImageFormat.Jpeg, 768, 576), (format, width, height));
        }
    }

    [Fact]
    public async Task Both_files_are_listed_with_the_size_and_names_from_their_metadata()
    {
        var custom = JsonDocument.Parse(await Client.GetStringAsync("/v1/vision/custom/list")).RootElement.GetProperty("models")
            .EnumerateArray().Select(m => m.GetString()).ToList();
        Assert.Contains(UltralyticsRoutesFixture.Float, custom);
        Assert.Contains(UltralyticsRoutesFixture.Int8, custom);

        // Use both, so both are loaded and list what their files say.
        foreach (var model in new[] { UltralyticsRoutesFixture.Float, UltralyticsRoutesFixture.Int8 })
            using (var r = await Client.PostAsync($"/api/v1/detect?model={model}", LookoutTestServer.Form("image", fixture.Dog))) Assert.True(r.IsSuccessStatusCode);
        var models = JsonDocument.Parse(await Client.GetStringAsync("/api/v1/models")).RootElement.GetProperty("models").EnumerateArray().ToList();
        foreach (var model in new[] { UltralyticsRoutesFixture.Float, UltralyticsRoutesFixture.Int8 })
        {
            var entry = models.Single(m => m.GetProperty("name").GetString() == model);
            Assert.Equal("folder", entry.GetProperty("origin").GetString());
            Assert.Equal("ultralytics", entry.GetProperty("family").GetString());
            Assert.Equal(640, entry.GetProperty("input_width").GetInt32());
            Assert.Equal(640, entry.GetProperty("input_height").GetInt32());
            var classes = entry.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToList();
            Assert.Equal([.. ClassNames.Coco], classes);
        }
    }

    private static List<Found> DeepStackPredictions(string body)
    {
        var root = JsonDocument.Parse(body).RootElement;
        Assert.True(root.GetProperty("success").GetBoolean(), body);
        return root.GetProperty("predictions").EnumerateArray().Select(p => new Found(p.GetProperty("label").GetString()!,
            p.GetProperty("confidence").GetDouble(),
            new BoundingBox(p.GetProperty("x_min").GetInt32(), p.GetProperty("y_min").GetInt32(), p.GetProperty("x_max").GetInt32(), p.GetProperty("y_max").GetInt32())))
            .ToList();
    }

    /// <summary>Each side's every detection has a partner: same label, IoU ≥ 0.9, score within 0.02.</summary>
    private void AssertAgrees(List<Found> route, IReadOnlyList<ReferenceDetection> reference, string what)
    {
        var expected = reference.Select(r => new Found(ClassNames.Coco[r.ClassId], r.Score, r.Box)).ToList();
        string Show(IEnumerable<Found> f) => string.Join("; ", f.Select(x => $"{x.Label} {x.Score:0.000} ({x.Box.X1:0},{x.Box.Y1:0},{x.Box.X2:0},{x.Box.Y2:0})"));
        output.WriteLine($"{what}\n  route:     {Show(route)}\n  reference: {Show(expected)}");
        Assert.NotEmpty(route);
        Assert.True(route.Count == expected.Count, $"{what}: {route.Count} objects, the reference {expected.Count}.\n route: {Show(route)}\n reference: {Show(expected)}");
        var unmatched = new List<Found>(expected);
        foreach (var d in route)
        {
            var partner = unmatched.FirstOrDefault(r => r.Label == d.Label && BoundingBox.IntersectionOverUnion(r.Box, d.Box) >= 0.9f && Math.Abs(r.Score - d.Score) <= 0.02);
            Assert.True(partner is not null, $"{what}: nothing in the reference matches {Show([d])}.\n reference: {Show(expected)}");
            unmatched.Remove(partner);
        }
    }
}
