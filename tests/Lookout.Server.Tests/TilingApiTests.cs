using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lookout.Detection;
using Lookout.Detection.Tests.Support;

namespace Lookout.Server.Tests;

/// <summary>Sliced inference over real HTTP: /api/v1/detect's tile and tile_overlap, and the DeepStack routes' extra form fields.</summary>
[Collection(DefaultServerCollection.Name)]
public sealed class TilingApiTests(DefaultServerFixture fixture)
{
    private HttpClient Client => fixture.Server.Client;

    private async Task<(HttpStatusCode Status, JsonElement Json, string Text)> Post(string url, HttpContent content)
    {
        var response = await Client.PostAsync(url, content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement, text);
    }

    private static MultipartFormDataContent Form(byte[] image, params (string, string)[] fields) =>
        LookoutTestServer.Form("image", image, fields: fields);

    private static int Found(JsonElement json, TilingScenes.Pasted o, string list = "detections", string label = "label") =>
        json.GetProperty(list).EnumerateArray().Count(d => d.GetProperty(label).GetString() == o.Label && Iou(d, o.Box, list) > 0.5f);

    private static float Iou(JsonElement d, BoundingBox box, string list)
    {
        var b = list == "detections"
            ? new BoundingBox(d.GetProperty("box").GetProperty("x1").GetSingle(), d.GetProperty("box").GetProperty("y1").GetSingle(),
                d.GetProperty("box").GetProperty("x2").GetSingle(), d.GetProperty("box").GetProperty("y2").GetSingle())
            : new BoundingBox(d.GetProperty("x_min").GetSingle(), d.GetProperty("y_min").GetSingle(), d.GetProperty("x_max").GetSingle(), d.GetProperty("y_max").GetSingle());
        return BoundingBox.IntersectionOverUnion(b, box);
    }

    [Fact]
    public async Task Tile_auto_finds_the_small_objects_that_one_pass_misses_and_reports_its_passes()
    {
        var (jpeg, objects) = TilingScenes.SmallObjectsFarApart();
        var (_, off, _) = await Post("/api/v1/detect", Form(jpeg));
        var (status, auto, _) = await Post("/api/v1/detect?tile=auto", Form(jpeg));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.All(objects, o => Assert.Equal(0, Found(off, o)));
        Assert.All(objects, o => Assert.Equal(1, Found(auto, o)));
        Assert.True(auto.GetProperty("timings").GetProperty("passes").GetInt32() > 2);
        Assert.False(off.GetProperty("timings").TryGetProperty("passes", out _), "an ordinary request has no passes field");

        // The same through the annotated JPEG route and as form fields.
        var (_, annotated, _) = await Post("/api/v1/detect", Form(jpeg, ("tile", "auto"), ("annotate", "true")));
        Assert.All(objects, o => Assert.Equal(1, Found(annotated, o)));
    }

    [Fact]
    public async Task Deepstack_routes_take_tile_as_an_extra_form_field()
    {
        var (jpeg, objects) = TilingScenes.SmallObjectsFarApart();
        // DeepStack's default min_confidence is 0.40; the pasted objects score above it only when tiled.
        var (_, plain, _) = await Post("/v1/vision/detection", Form(jpeg, ("min_confidence", "0.3")));
        var (status, tiled, _) = await Post("/v1/vision/detection", Form(jpeg, ("min_confidence", "0.3"), ("tile", "auto")));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.All(objects, o => Assert.Equal(0, Found(plain, o, "predictions")));
        Assert.All(objects, o => Assert.Equal(1, Found(tiled, o, "predictions")));
        var (customStatus, custom, _) = await Post("/v1/vision/custom/yolox-nano", Form(jpeg, ("min_confidence", "0.3"), ("tile", "auto")));
        Assert.Equal(HttpStatusCode.OK, customStatus);
        Assert.All(objects, o => Assert.Equal(1, Found(custom, o, "predictions")));
    }

    [Theory]
    [InlineData("dog.jpg")]
    [InlineData("street.jpg")]
    public async Task Tile_off_answers_byte_identically_to_a_request_without_it(string name)
    {
        var bytes = TestAssets.Bytes(name);
        static string Detections(JsonElement json) => json.GetProperty("detections").GetRawText();
        var (_, plain, _) = await Post("/api/v1/detect", Form(bytes));
        var (_, off, offText) = await Post("/api/v1/detect?tile=off&tile_overlap=0.5", Form(bytes));
        Assert.Equal(Detections(plain), Detections(off));
        Assert.DoesNotContain("passes", offText);

        static string Predictions(JsonElement json) => json.GetProperty("predictions").GetRawText();
        var (_, deepstack, _) = await Post("/v1/vision/detection", Form(bytes, ("api_key", "")));
        var (_, deepstackOff, _) = await Post("/v1/vision/detection", Form(bytes, ("api_key", ""), ("tile", "off")));
        Assert.Equal(Predictions(deepstack), Predictions(deepstackOff));
    }

    [Theory]
    [InlineData("tile=0x3", "'tile' a tile grid needs 1 to 16 rows and columns and at least 2 tiles; got '0x3'.")]
    [InlineData("tile=banana", "'tile' must be 'off', 'auto' or rows x columns such as '2x2'; got 'banana'.")]
    [InlineData("tile=auto&tile_overlap=1.5", "'tile_overlap' must be a number from 0 to 0.75; got '1.5'.")]
    [InlineData("tile=auto&tile_overlap=x", "'tile_overlap' must be a number from 0 to 0.75; got 'x'.")]
    [InlineData("tile=8x8", "'tile': tile grid 8x8 is 64 tiles; at most 16 are allowed per request.")]
    public async Task Bad_tile_values_are_400_with_a_clear_message(string query, string detail)
    {
        var (status, json, _) = await Post("/api/v1/detect?" + query, Form(TestAssets.Bytes("dog.jpg")));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(detail, json.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("0x3", "got '0x3'")]
    [InlineData("banana", "got 'banana'")]
    public async Task Bad_tile_values_on_the_deepstack_route_are_400_in_its_shape(string tile, string expected)
    {
        var (status, json, _) = await Post("/v1/vision/detection", Form(TestAssets.Bytes("dog.jpg"), ("tile", tile)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Contains(expected, json.GetProperty("error").GetString());
        var (overlapStatus, overlap, _) = await Post("/v1/vision/detection", Form(TestAssets.Bytes("dog.jpg"), ("tile", "auto"), ("tile_overlap", "1.5")));
        Assert.Equal(HttpStatusCode.BadRequest, overlapStatus);
        Assert.Contains("'tile_overlap' must be a number from 0 to 0.75; got '1.5'", overlap.GetProperty("error").GetString());
    }
}
