using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lookout.Detection.Tests;
using Lookout.Detection.Tests.Support;
using SkiaSharp;

namespace Lookout.Server.Tests;

[Collection(DefaultServerCollection.Name)]
public sealed class DetectApiTests(DefaultServerFixture fixture)
{
    private HttpClient Client => fixture.Server.Client;

    private async Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> Post(string url, HttpContent content)
    {
        var response = await Client.PostAsync(url, content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement, response);
    }

    private static string[] Labels(JsonElement json) =>
        json.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("label").GetString()!).ToArray();

    [Fact]
    public async Task Multipart_image_part_returns_the_dog_bicycle_and_car_with_pixel_boxes()
    {
        var (status, json, _) = await Post("/api/v1/detect?conf=0.5", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("yolox-nano", json.GetProperty("model").GetString());
        Assert.Equal(768, json.GetProperty("image").GetProperty("width").GetInt32());
        Assert.Equal(["dog", "bicycle", "car"], Labels(json));
        var dog = json.GetProperty("detections")[0];
        Assert.Equal(16, dog.GetProperty("class_id").GetInt32());
        Assert.InRange(dog.GetProperty("box").GetProperty("x1").GetSingle(), 129, 137);
        Assert.InRange(dog.GetProperty("box").GetProperty("y2").GetSingle(), 539, 547);
        foreach (var key in new[] { "decode_ms", "inference_ms", "total_ms" })
            Assert.True(json.GetProperty("timings").GetProperty(key).GetDouble() > 0, key);
    }

    [Fact]
    public async Task File_part_name_is_accepted_too()
    {
        var (status, json, _) = await Post("/api/v1/detect?conf=0.5", LookoutTestServer.Form("file", TestAssets.Bytes("dog.jpg")));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("dog", Labels(json));
    }

    [Fact]
    public async Task Raw_body_with_an_image_content_type_is_accepted()
    {
        var body = new ByteArrayContent(TestAssets.Bytes("dog.jpg"));
        body.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        var (status, json, _) = await Post("/api/v1/detect?conf=0.5", body);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["dog", "bicycle", "car"], Labels(json));
    }

    [Fact]
    public async Task Detections_are_sorted_by_descending_score()
    {
        var (_, json, _) = await Post("/api/v1/detect", LookoutTestServer.Form("image", TestAssets.Bytes("street.jpg")));
        var scores = json.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("score").GetSingle()).ToArray();
        Assert.True(scores.Length > 3);
        Assert.Equal(scores.OrderByDescending(s => s), scores);
    }

    [Fact]
    public async Task Parameters_in_form_fields_work_like_query_parameters()
    {
        var form = LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg"), fields: [("classes", "dog,car"), ("max_det", "1")]);
        var (status, json, _) = await Post("/api/v1/detect", form);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["dog"], Labels(json));
    }

    [Fact]
    public async Task Annotate_adds_the_annotated_jpeg_of_the_uploaded_size()
    {
        var (status, json, _) = await Post("/api/v1/detect?annotate=true", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));
        Assert.Equal(HttpStatusCode.OK, status);
        var uri = json.GetProperty("annotated_image").GetString()!;
        Assert.StartsWith("data:image/jpeg;base64,", uri);
        using var bitmap = SKBitmap.Decode(Convert.FromBase64String(uri["data:image/jpeg;base64,".Length..]));
        Assert.Equal((768, 576), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public async Task Accept_image_jpeg_returns_the_annotated_jpeg_itself()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/detect") { Content = LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")) };
        request.Headers.Accept.ParseAdd("image/jpeg");
        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType!.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xFF, 0xD8], bytes[..2]);
        Assert.True(int.Parse(response.Headers.GetValues("X-Lookout-Detections").Single()) >= 3);
    }

    [Theory]
    [InlineData("conf=abc", "conf")]
    [InlineData("conf=1.5", "conf")]
    [InlineData("iou=0", "iou")]
    [InlineData("max_det=0", "max_det")]
    [InlineData("annotate=maybe", "annotate")]
    [InlineData("classes=unicorn", "unicorn")]
    [InlineData("model=../../etc/passwd", "Unknown model")]
    public async Task Bad_parameters_are_400_problem_details_naming_the_parameter(string query, string mentioned)
    {
        var (status, json, response) = await Post("/api/v1/detect?" + query, LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(400, json.GetProperty("status").GetInt32());
        Assert.Contains(mentioned, json.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Missing_image_part_is_400()
    {
        var form = new MultipartFormDataContent { { new StringContent("0.5"), "conf" } };
        var (status, json, _) = await Post("/api/v1/detect", form);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("image", json.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Repeated_image_parts_answer_one_result_each_and_the_seed_route_refuses_them()
    {
        var form = LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg"));
        var second = new ByteArrayContent(TestAssets.Bytes("dog.jpg"));
        second.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(second, "image", "again.jpg");
        var (status, json, _) = await Post("/api/v1/detect", form);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, json.GetProperty("results").GetArrayLength());

        var seed = LookoutTestServer.Form("file", TestAssets.Bytes("dog.jpg"));
        var again = new ByteArrayContent(TestAssets.Bytes("dog.jpg"));
        again.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        seed.Add(again, "file", "again.jpg");
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PostAsync("/", seed)).StatusCode);
    }

    [Fact]
    public async Task Json_body_is_415()
    {
        var (status, _, _) = await Post("/api/v1/detect", new StringContent("{\"image\":\"x\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
    }

    [Fact]
    public async Task Empty_raw_body_is_400()
    {
        var body = new ByteArrayContent([]);
        body.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        var (status, _, _) = await Post("/api/v1/detect", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Non_image_is_415_truncated_jpeg_is_400_and_pixel_bomb_is_413()
    {
        var dog = TestAssets.Bytes("dog.jpg");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Post("/api/v1/detect", LookoutTestServer.Form("image", "not an image"u8.ToArray()))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post("/api/v1/detect", LookoutTestServer.Form("image", dog[..(dog.Length / 2)]))).Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Post("/api/v1/detect", LookoutTestServer.Form("image", BadInputTests.PngHeaderOnly(100_000, 100_000), "bomb.png", "image/png"))).Status);
        // The next good request still succeeds.
        Assert.Equal(HttpStatusCode.OK, (await Post("/api/v1/detect", LookoutTestServer.Form("image", dog))).Status);
    }

    [Fact]
    public async Task Models_lists_the_catalogue_with_the_default_loaded()
    {
        var json = JsonDocument.Parse(await Client.GetStringAsync("/api/v1/models")).RootElement;

        Assert.Equal("yolox-nano", json.GetProperty("default").GetString());
        var models = json.GetProperty("models").EnumerateArray().ToArray();
        var yolox = models.Single(m => m.GetProperty("name").GetString() == "yolox-nano");
        Assert.True(yolox.GetProperty("loaded").GetBoolean());
        Assert.Equal(416, yolox.GetProperty("input_width").GetInt32());
        Assert.Equal(80, yolox.GetProperty("classes").GetArrayLength());
        Assert.Contains(models, m => m.GetProperty("name").GetString() == "yolo-fastest-1.1" && m.GetProperty("available").GetBoolean());
        Assert.Contains(models, m => m.GetProperty("name").GetString() == "yolov3-608" && !m.GetProperty("available").GetBoolean());
    }

    [Fact]
    public async Task A_darknet_model_can_be_chosen_per_request()
    {
        var (status, json, _) = await Post("/api/v1/detect?model=yolo-fastest-1.1", LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("yolo-fastest-1.1", json.GetProperty("model").GetString());
        Assert.Contains("dog", Labels(json));
    }

    [Fact]
    public async Task Config_gives_the_page_its_settings_and_examples_are_served()
    {
        var json = JsonDocument.Parse(await Client.GetStringAsync("/api/v1/config")).RootElement;
        Assert.Equal(1280, json.GetProperty("max_side").GetInt32());
        var urls = json.GetProperty("examples").EnumerateArray().Select(e => e.GetProperty("url").GetString()!).ToArray();
        Assert.Equal(["/examples/dog.jpg", "/examples/street.jpg", "/examples/wedding.jpg", "/examples/NGC1499.jpg"], urls);
        var dog = await Client.GetByteArrayAsync(urls[0]);
        Assert.Equal(TestAssets.Bytes("dog.jpg"), dog);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/examples/..%2F..%2Fetc%2Fpasswd")).StatusCode);
    }

    [Fact]
    public async Task Sixteen_concurrent_requests_each_get_their_own_image_detections()
    {
        var images = Directory.GetFiles(TestAssets.SharedPath("data", "coco128", "images"), "*.jpg").Order().Take(16).Select(File.ReadAllBytes).ToArray();
        async Task<string> Detect(byte[] image)
        {
            var response = await Client.PostAsync("/api/v1/detect", LookoutTestServer.Form("image", image));
            response.EnsureSuccessStatusCode();
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return json.GetProperty("image").GetRawText() + json.GetProperty("detections").GetRawText();
        }
        var sequential = new List<string>();
        foreach (var image in images) sequential.Add(await Detect(image));

        var concurrent = await Task.WhenAll(images.Select(Detect));

        Assert.Equal(16, sequential.Distinct().Count());
        for (int i = 0; i < images.Length; i++) Assert.Equal(sequential[i], concurrent[i]);
    }
}
