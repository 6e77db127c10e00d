using System.Text.RegularExpressions;
using Lookout.Detection;
using Lookout.Server.Services;
using Microsoft.Extensions.Options;

namespace Lookout.Server.Endpoints;

/// <summary>
/// The original Flask back-end's routes, unchanged: <c>POST /</c> (multipart <c>file</c> + <c>orientation</c>) →
/// <c>{"name":"input.jpg","image":"data:image/jpeg;base64, …"}</c>, and <c>GET /status_check</c>.
/// </summary>
public static partial class SeedCompatEndpoints
{
    /// <summary>The original kept detections above objectness 0.8; the score here is objectness × class, so a lower bar finds the same objects.</summary>
    public const float SeedConfidence = 0.25f;

    public static IEndpointRouteBuilder MapSeedCompatEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/", DetectAsync).DisableAntiforgery().RequireRateLimiting(ClientRateLimiting.Policy).AddEndpointFilter<ApiKeyFilter>().WithTags("Original API")
            .WithSummary("Original WebsiteYOLO route: multipart 'file' (+ 'orientation') → annotated JPEG as a data URI.");
        app.MapGet("/status_check", () => Results.Text("GET request received", "text/html", statusCode: 200))
            .WithTags("Original API").WithSummary("Liveness check the original page polled.");
        return app;
    }

    public sealed record SeedResponse(string Name, string Image);
    public sealed record SeedError(string Error);

    private static async Task<IResult> DetectAsync(HttpContext context, DetectionService detection, IOptions<LookoutOptions> options)
    {
        try
        {
            detection.EnsureCapacity();
            var upload = await UploadReader.ReadAsync(context.Request, ["file"], options.Value.Limits.MaxUploadBytes, allowRawBody: false, context.RequestAborted);
            var field = ParseOrientation(upload.Form["orientation"].ToString());
            var job = new DetectionJob(upload.Image, null, new DetectionOptions { Confidence = SeedConfidence, Iou = 0.45f }, Annotate: true)
            {
                ExtraOrientation = OrientationToApply(field, context.Request.Headers.UserAgent.ToString()),
            };
            var outcome = await detection.DetectAsync(job, context.RequestAborted);
            context.Items[RequestLogging.OutcomeKey] = outcome;
            // The single space after the comma is the original's: clients split on ", ".
            var dataUri = "data:image/jpeg;base64, " + Convert.ToBase64String(outcome.AnnotatedJpeg!);
            return new BufferedJson(new SeedResponse("input.jpg", dataUri), 200);
        }
        catch (Exception ex) when (RequestError.From(ex) is { } error)
        {
            if (error.RetryAfter is { } wait) context.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString();
            return new BufferedJson(new SeedError(error.Detail), error.Status);
        }
    }

    /// <summary>The page sends "1"…"8", or "undefined" when the photo had no EXIF.</summary>
    internal static int? ParseOrientation(string? value) =>
        int.TryParse(value, out var o) && o is >= 1 and <= 8 ? o : null;

    /// <summary>
    /// The orientation rule. The page reads the photo's EXIF orientation, draws the photo on a canvas, and uploads
    /// the canvas as a JPEG without EXIF, plus the number it read. Browsers before Chrome 81 / Firefox 77 /
    /// Safari 13.1 drew the stored (sideways) pixels, so the server had to turn them; current browsers draw the
    /// photo upright, and turning it again would put it on its side. So: a file that carries its own EXIF
    /// orientation is turned by that alone (the field is the same number read from the same tag); otherwise the
    /// field is applied unless the uploader is a browser that already drew the photo upright.
    /// </summary>
    internal static int? OrientationToApply(int? field, string userAgent) =>
        field is > 1 && !DrawsCanvasUpright(userAgent) ? field : null;

    internal static bool DrawsCanvasUpright(string userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent)) return false;
        if (Version(ChromeVersion(), userAgent) is { } chrome) return chrome >= 81;
        if (Version(FirefoxVersion(), userAgent) is { } firefox) return firefox >= 77;
        if (userAgent.Contains("Safari/", StringComparison.Ordinal) && SafariVersion().Match(userAgent) is { Success: true } s)
            return int.Parse(s.Groups[1].Value) * 100 + int.Parse(s.Groups[2].Value) >= 1301;
        return false;
    }

    private static int? Version(Regex regex, string userAgent) =>
        regex.Match(userAgent) is { Success: true } m ? int.Parse(m.Groups[1].Value) : null;

    [GeneratedRegex(@"(?:Chrome|Chromium|CriOS)/(\d+)")] private static partial Regex ChromeVersion();
    [GeneratedRegex(@"(?:Firefox|FxiOS)/(\d+)")] private static partial Regex FirefoxVersion();
    [GeneratedRegex(@"Version/(\d+)\.(\d+)")] private static partial Regex SafariVersion();
}
