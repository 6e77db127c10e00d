using Lookout.Detection.Rendering;
using SkiaSharp;

namespace Lookout.Detection.Tests;

public sealed class OutcomeRendererTests
{
    // JPEG's halved chroma pales a thin line, so pixels are judged by their dominant hue, not by exact colour.
    private static bool Greenish(SKColor c) => c.Green - Math.Max(c.Red, c.Blue) > 40;
    private static bool Reddish(SKColor c) => c.Red - Math.Max(c.Green, c.Blue) > 40;
    private static bool Bluish(SKColor c) => c.Blue - c.Red > 40 && c.Blue >= c.Green;
    private static bool White(SKColor c) => Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 215;

    [Fact]
    public void Three_outcomes_are_drawn_in_three_styles_with_a_legend_band_below_the_photo()
    {
        using var photo = new SKBitmap(new SKImageInfo(600, 400, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(photo)) canvas.Clear(SKColors.White);
        using var renderer = new OutcomeRenderer();
        OutcomeBox[] boxes =
        [
            new(40, 60, 180, 300, "person 91%", OutcomeStyle.TruePositive),
            new(230, 60, 370, 300, "car 40%", OutcomeStyle.FalsePositive),
            new(420, 60, 560, 300, "dog", OutcomeStyle.Missed),
        ];
        var jpeg = renderer.RenderJpeg(photo, 600, 400, boxes, "score ≥ 0.30 · 1 TP · 1 FP · 1 missed");
        File.WriteAllBytes(Path.Combine(Support.TestAssets.TestOutputDirectory("outcome-renderer"), "three-styles.jpg"), jpeg);

        using var output = SKBitmap.Decode(jpeg);
        Assert.Equal(600, output.Width);
        Assert.True(output.Height > 400, "no legend band");

        // Along each box's left edge (below its tag): solid green (no gap), dashed red (long strokes), dotted blue
        // (short dots, about twice as many).
        (int Ink, int Gap, int Runs) Edge(int x, Func<SKColor, bool> hue)
        {
            int ink = 0, gap = 0, runs = 0;
            bool inInk = false;
            for (int y = 100; y < 290; y++)
            {
                var c = Enumerable.Range(x - 1, 3).Select(xx => output.GetPixel(xx, y)).OrderBy(c => c.Red + c.Green + c.Blue).First();
                bool isInk = hue(c);
                if (isInk) { ink++; if (!inInk) runs++; }
                else if (White(c)) gap++;
                inInk = isInk;
            }
            return (ink, gap, runs);
        }
        var tp = Edge(40, Greenish);
        var fp = Edge(230, Reddish);
        var missed = Edge(420, Bluish);
        Assert.True(tp.Ink > 180 && tp.Gap == 0 && tp.Runs == 1, $"true positive not solid: {tp}");
        Assert.True(fp.Runs >= 10 && fp.Gap > 30 && (double)fp.Ink / fp.Runs > 5, $"false positive not dashed: {fp}");
        Assert.True(missed.Runs > 1.6 * fp.Runs && missed.Gap > 30 && (double)missed.Ink / missed.Runs < 5, $"missed not dotted: {missed} (dashed: {fp})");
        Assert.NotEqual(OutcomeRenderer.ColorOf(OutcomeStyle.TruePositive), OutcomeRenderer.ColorOf(OutcomeStyle.FalsePositive));

        // The legend band carries text (dark pixels on white).
        int dark = 0;
        for (int y = 402; y < output.Height; y++)
            for (int x = 0; x < output.Width; x++)
                if (output.GetPixel(x, y) is var c && c.Red + c.Green + c.Blue < 200) dark++;
        Assert.True(dark > 300, $"legend text missing ({dark} dark pixels)");
    }

    [Fact]
    public void Large_photos_are_scaled_down_with_their_boxes()
    {
        using var photo = new SKBitmap(new SKImageInfo(3000, 2000, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(photo)) canvas.Clear(SKColors.White);
        using var renderer = new OutcomeRenderer(maxLongestSide: 1000);
        var jpeg = renderer.RenderJpeg(photo, 3000, 2000, [new(1500, 1000, 2400, 1800, "cat 80%", OutcomeStyle.TruePositive)]);
        using var output = SKBitmap.Decode(jpeg);
        Assert.Equal(1000, output.Width);
        // The box's left edge at 1500 px → 500 px; its middle height 1400 → 466.
        Assert.True(Enumerable.Range(498, 5).Any(x => Greenish(output.GetPixel(x, 466))), "box not scaled with the photo");
        Assert.True(White(output.GetPixel(520, 466)), "box drawn where it was not");
    }
}
