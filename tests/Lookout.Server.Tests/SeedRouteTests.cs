using System.Net;
using System.Text.Json;
using Lookout.Detection.Tests.Support;
using SkiaSharp;

namespace Lookout.Server.Tests;

[Collection(DefaultServerCollection.Name)]
public sealed class SeedRouteTests(DefaultServerFixture fixture)
{
    private const string ModernChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    private const string OldChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.77 Safari/537.36";
    private HttpClient Client => fixture.Server.Client;

    /// <summary>Posts the way the original page did: a Blob named "blob" of type image/jpeg, and the orientation field.</summary>
    private async Task<(HttpResponseMessage Response, JsonDocument Json)> PostSeed(byte[] image, string? orientation, string? userAgent = null)
    {
        using var form = LookoutTestServer.Form("file", image, "blob");
        if (orientation is not null) form.Add(new StringContent(orientation), "orientation");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = form };
        if (userAgent is not null) request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        var response = await Client.SendAsync(request);
        return (response, JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }

    private static SKBitmap DecodeDataUri(JsonDocument json)
    {
        var uri = json.RootElement.GetProperty("image").GetString()!;
        const string prefix = "data:image/jpeg;base64, ";
        Assert.StartsWith(prefix, uri);
        return SKBitmap.Decode(Convert.FromBase64String(uri[prefix.Length..]));
    }

    [Fact]
    public async Task Post_root_returns_the_annotated_jpeg_as_a_data_uri_of_the_uploaded_size()
    {
        var (response, json) = await PostSeed(TestAssets.Bytes("dog.jpg"), "undefined");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("input.jpg", json.RootElement.GetProperty("name").GetString());
        using var annotated = DecodeDataUri(json);
        Assert.Equal((768, 576), (annotated.Width, annotated.Height));
    }

    [Fact]
    public async Task Post_root_without_orientation_field_works()
    {
        var (response, json) = await PostSeed(TestAssets.Bytes("street.jpg"), null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var annotated = DecodeDataUri(json);
        Assert.Equal((2380, 1580), (annotated.Width, annotated.Height));
    }

    [Fact]
    public async Task Status_check_answers_like_the_original()
    {
        var response = await Client.GetAsync("/status_check");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("GET request received", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Old_style_upload_of_sideways_pixels_with_orientation_6_is_turned_upright()
    {
        // An old browser drew the stored pixels: the canvas export is the photo on its side, with no EXIF.
        using var upright = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        var sideways = SidewaysWithoutExif(upright);

        var (response, json) = await PostSeed(sideways, "6", OldChrome);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var annotated = DecodeDataUri(json);
        Assert.Equal((768, 576), (annotated.Width, annotated.Height));
        Assert.True(MeanDifference(annotated, upright) < 40, "the returned picture is not the upright photo");
    }

    [Fact]
    public async Task Modern_upload_of_an_upright_canvas_with_orientation_6_is_not_turned_again()
    {
        // A current browser drew the photo upright before exporting; the page still sends the number it read.
        var canvasExport = ImageFactory.Encode(ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg")), SKEncodedImageFormat.Jpeg, 92);

        var (response, json) = await PostSeed(canvasExport, "6", ModernChrome);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var annotated = DecodeDataUri(json);
        Assert.Equal((768, 576), (annotated.Width, annotated.Height));
    }

    [Fact]
    public async Task File_with_its_own_exif_orientation_is_turned_once_even_with_the_field()
    {
        using var upright = ImageFactory.DecodeRgba(TestAssets.Bytes("dog.jpg"));
        var phonePhoto = ImageFactory.JpegWithOrientation(upright, 6);

        var (response, json) = await PostSeed(phonePhoto, "6", OldChrome);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var annotated = DecodeDataUri(json);
        Assert.Equal((768, 576), (annotated.Width, annotated.Height));
        Assert.True(MeanDifference(annotated, upright) < 40, "the returned picture is not the upright photo");
    }

    [Fact]
    public async Task Missing_file_part_is_a_400_with_an_error_field()
    {
        using var form = new MultipartFormDataContent { { new StringContent("6"), "orientation" } };
        var response = await Client.PostAsync("/", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("file", json.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Text_file_named_jpg_is_a_415_with_an_error_field()
    {
        var (response, json) = await PostSeed("hello, I am text"u8.ToArray(), "1");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("not an image", json.RootElement.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData(ModernChrome, true)]
    [InlineData(OldChrome, false)]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", true)]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; rv:68.0) Gecko/20100101 Firefox/68.0", false)]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", true)]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Safari/605.1.15", false)]
    [InlineData("python-requests/2.31.0", false)]
    [InlineData("", false)]
    public void Browsers_that_draw_canvases_upright_are_recognised(string userAgent, bool upright) =>
        Assert.Equal(upright, Lookout.Server.Endpoints.SeedCompatEndpoints.DrawsCanvasUpright(userAgent));

    private static byte[] SidewaysWithoutExif(SKBitmap upright)
    {
        // Stored pixels of an orientation-6 photo: the upright image turned 90° counter-clockwise.
        using var stored = new SKBitmap(new SKImageInfo(upright.Height, upright.Width, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(stored))
        {
            canvas.SetMatrix(new SKMatrix(0, 1, 0, -1, 0, upright.Width, 0, 0, 1));
            canvas.DrawBitmap(upright, 0, 0);
        }
        return ImageFactory.Encode(stored, SKEncodedImageFormat.Jpeg, 92);
    }

    /// <summary>Mean absolute channel difference on a coarse grid: small for the same picture, large for a turned one.</summary>
    private static double MeanDifference(SKBitmap a, SKBitmap b)
    {
        double sum = 0; int n = 0;
        for (int y = 5; y < a.Height; y += 23)
            for (int x = 5; x < a.Width; x += 23)
            {
                var p = a.GetPixel(x, y); var q = b.GetPixel(x, y);
                sum += Math.Abs(p.Red - q.Red) + Math.Abs(p.Green - q.Green) + Math.Abs(p.Blue - q.Blue);
                n += 3;
            }
        return sum / n;
    }
}
