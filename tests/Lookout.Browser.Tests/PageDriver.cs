using System.Text.Json;
using Microsoft.Playwright;

namespace Lookout.Browser.Tests;

/// <summary>What the tests do with the page, in one place: the element ids and the window.lookout hook.</summary>
public static class PageDriver
{
    public sealed record Box(double X1, double Y1, double X2, double Y2);
    public sealed record Detection(string Label, int ClassId, double Score, Box Box);

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Open the page and wait for its module to have started.</summary>
    public static async Task OpenAsync(IPage page)
    {
        await page.GotoAsync("/");
        await page.WaitForFunctionAsync("() => document.documentElement.dataset.ready === 'true' && window.lookout");
    }

    /// <summary>Wait until a result is on screen: processing over, overlay drawn for the visible detections.</summary>
    public static async Task WaitForResultAsync(IPage page, int timeoutMs = 30_000)
    {
        await page.WaitForFunctionAsync(
            """
            () => {
              const r = window.lookout.lastResult;
              const img = document.getElementById('result-image');
              return r !== null
                && document.getElementById('processing').hidden
                && img.complete && img.naturalWidth > 0
                && document.getElementById('overlay').dataset.drawn === String(window.lookout.visibleDetections().length);
            }
            """, null, new PageWaitForFunctionOptions { Timeout = timeoutMs, PollingInterval = 100 });
    }

    public static async Task<IReadOnlyList<Detection>> VisibleDetectionsAsync(IPage page)
    {
        var json = await page.EvaluateAsync<string>("() => JSON.stringify(window.lookout.visibleDetections())");
        return JsonSerializer.Deserialize<List<Detection>>(json, Json)!;
    }

    public static async Task<IReadOnlyList<Detection>> AllDetectionsAsync(IPage page)
    {
        var json = await page.EvaluateAsync<string>("() => JSON.stringify(window.lookout.lastResult.detections)");
        return JsonSerializer.Deserialize<List<Detection>>(json, Json)!;
    }

    public static async Task<(int Width, int Height)> ResultImageSizeAsync(IPage page)
    {
        var w = await page.EvaluateAsync<int>("() => window.lookout.lastResult.image.width");
        var h = await page.EvaluateAsync<int>("() => window.lookout.lastResult.image.height");
        return (w, h);
    }

    /// <summary>
    /// The colour the overlay canvas has on the left edge of a detection's box, half-way down
    /// (as [r, g, b, a]); that is where the box outline is drawn.
    /// </summary>
    public static async Task<int[]> OverlayColourOnLeftEdgeAsync(IPage page, Detection d)
    {
        return await page.EvaluateAsync<int[]>(
            """
            (b) => {
              const c = document.getElementById('overlay');
              const s = c.width / window.lookout.lastResult.image.width;
              const lw = 2 * (window.devicePixelRatio || 1);
              const x = Math.floor(b.x1 * s + lw / 2);
              const y = Math.floor((b.y1 + b.y2) / 2 * s);
              return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data);
            }
            """, new { x1 = d.Box.X1, y1 = d.Box.Y1, x2 = d.Box.X2, y2 = d.Box.Y2 });
    }

    /// <summary>matplotlib tab10 as the page uses it: class_id % 10.</summary>
    public static (int R, int G, int B) Tab10(int classId)
    {
        string[] hex = ["1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf"];
        var h = hex[classId % 10];
        return (Convert.ToInt32(h[..2], 16), Convert.ToInt32(h[2..4], 16), Convert.ToInt32(h[4..], 16));
    }

    public static bool Near((int R, int G, int B) expected, int r, int g, int b, int tolerance) =>
        Math.Abs(expected.R - r) <= tolerance && Math.Abs(expected.G - g) <= tolerance && Math.Abs(expected.B - b) <= tolerance;

    public static Task ScreenshotAsync(IPage page, string name, bool fullPage = true) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = TestPaths.ScreenshotPath(name), FullPage = fullPage });

    /// <summary>Counts the page's POSTs to /api/v1/detect from now on.</summary>
    public sealed class DetectRequestCounter
    {
        private int _count;
        public int Count => Volatile.Read(ref _count);
        public DetectRequestCounter(IPage page)
        {
            page.Request += (_, req) =>
            {
                if (req.Method == "POST" && req.Url.Contains("/api/v1/detect", StringComparison.Ordinal))
                    Interlocked.Increment(ref _count);
            };
        }
    }
}
