using System.Net;
using System.Text.Json;
using Lookout.Detection.Tests.Support;

namespace Lookout.Server.Tests;

[Collection(DefaultServerCollection.Name)]
public sealed class DeepStackTests(DefaultServerFixture fixture)
{
    private HttpClient Client => fixture.Server.Client;

    private async Task<(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response)> Detect(byte[] image, string url = "/v1/vision/detection", params (string, string)[] fields)
    {
        // Home Assistant always sends api_key, empty when none is configured.
        var form = LookoutTestServer.Form("image", image, fields: fields.Length > 0 ? fields : [("api_key", "")]);
        var response = await Client.PostAsync(url, form);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement, response);
    }

    [Fact]
    public async Task Detection_matches_the_deepstack_shape_field_by_field()
    {
        var (status, json, response) = await Detect(TestAssets.Bytes("dog.jpg"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.Equal(JsonValueKind.Number, json.GetProperty("duration").ValueKind);
        var predictions = json.GetProperty("predictions").EnumerateArray().ToArray();
        // min_confidence defaults to 0.40 as in DeepStack: the 0.31 truck is not reported.
        Assert.Equal(["dog", "bicycle", "car"], predictions.Select(p => p.GetProperty("label").GetString()));
        foreach (var p in predictions)
        {
            Assert.Equal(["confidence", "label", "y_min", "x_min", "y_max", "x_max"], p.EnumerateObject().Select(o => o.Name));
            foreach (var key in new[] { "x_min", "y_min", "x_max", "y_max" })
                Assert.True(p.GetProperty(key).TryGetInt32(out _), $"{key} is not an integer");
            Assert.InRange(p.GetProperty("confidence").GetDouble(), 0, 1);
        }
        Assert.InRange(predictions[0].GetProperty("x_min").GetInt32(), 129, 137);
        Assert.InRange(predictions[0].GetProperty("y_max").GetInt32(), 539, 547);
        Assert.NotNull(response.Content.Headers.ContentLength);
        Assert.False(response.Headers.TransferEncodingChunked ?? false);
    }

    [Fact]
    public async Task CodeProject_extras_are_present()
    {
        var (_, json, _) = await Detect(TestAssets.Bytes("dog.jpg"));

        Assert.Equal("Found dog, bicycle, car", json.GetProperty("message").GetString());
        Assert.Equal(3, json.GetProperty("count").GetInt32());
        Assert.Equal("CPU", json.GetProperty("inferenceDevice").GetString());
        foreach (var key in new[] { "moduleId", "moduleName", "command", "requestId", "processedBy", "timestampUTC" })
            Assert.False(string.IsNullOrEmpty(json.GetProperty(key).GetString()), key);
        foreach (var key in new[] { "inferenceMs", "processMs", "analysisRoundTripMs" })
            Assert.True(json.GetProperty(key).GetInt32() >= 0, key);
    }

    [Fact]
    public async Task Predictions_are_sorted_by_descending_confidence()
    {
        var (_, json, _) = await Detect(TestAssets.Bytes("street.jpg"), fields: ("min_confidence", "0.1"));
        var confidences = json.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("confidence").GetDouble()).ToArray();
        Assert.True(confidences.Length > 3);
        Assert.Equal(confidences.OrderByDescending(c => c), confidences);
        Assert.All(confidences, c => Assert.True(c >= 0.1));
    }

    [Fact]
    public async Task Nothing_found_says_so()
    {
        var (status, json, _) = await Detect(TestAssets.Bytes("dog.jpg"), fields: ("min_confidence", "0.99"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(json.GetProperty("predictions").EnumerateArray());
        Assert.Equal("No objects found", json.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("abc", "Invalid value for min_confidence")]
    [InlineData("-0.2", "Invalid value for min_confidence")]
    [InlineData("1.5", "min_confidence cannot be greater than 1")]
    public async Task Bad_min_confidence_gets_deepstacks_error(string value, string error)
    {
        var (status, json, _) = await Detect(TestAssets.Bytes("dog.jpg"), fields: ("min_confidence", value));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Equal(error, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Missing_image_is_no_valid_image_file_found()
    {
        var response = await Client.PostAsync("/v1/vision/detection", new MultipartFormDataContent { { new StringContent(""), "api_key" } });
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("No valid image file found", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Undecodable_image_is_invalid_image_file()
    {
        var dog = TestAssets.Bytes("dog.jpg");
        var (status, json, _) = await Detect(dog[..(dog.Length / 2)]);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid image file", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Custom_route_runs_the_named_model_and_unknown_models_are_404()
    {
        var (status, json, _) = await Detect(TestAssets.Bytes("dog.jpg"), "/v1/vision/custom/yolox-nano");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("custom", json.GetProperty("command").GetString());

        var (missing, error, _) = await Detect(TestAssets.Bytes("dog.jpg"), "/v1/vision/custom/no-such-model");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.False(error.GetProperty("success").GetBoolean());
    }

    [Fact]
    public async Task Custom_list_ping_and_update_check_answer()
    {
        var list = JsonDocument.Parse(await Client.GetStringAsync("/v1/vision/custom/list")).RootElement;
        Assert.True(list.GetProperty("success").GetBoolean());
        Assert.Contains("yolox-nano", list.GetProperty("models").EnumerateArray().Select(m => m.GetString()));

        var ping = JsonDocument.Parse(await Client.GetStringAsync("/v1/server/status/ping")).RootElement;
        Assert.True(ping.GetProperty("success").GetBoolean());

        var update = await Client.GetAsync("/v1/status/updateavailable");
        Assert.NotNull(update.Content.Headers.ContentLength);
        var json = JsonDocument.Parse(await update.Content.ReadAsStringAsync()).RootElement;
        Assert.False(json.GetProperty("updateAvailable").GetBoolean());
    }
}
