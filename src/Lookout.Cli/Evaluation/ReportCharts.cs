using System.Globalization;
using Lookout.Detection.Evaluation;
using Lookout.Detection.Rendering;
using ScottPlot;

namespace Lookout.Cli.Evaluation;

/// <summary>
/// The report's charts, drawn with ScottPlot (which draws with the same SkiaSharp as the engine). Text uses the sans
/// family <see cref="FontLocator"/> finds (DejaVu Sans on Debian), registered with ScottPlot by file: the
/// NoDependencies build of Skia has no fontconfig, and a family looked up by name may not be there, leaving blank labels.
/// </summary>
internal static class ReportCharts
{
    /// <summary>The family name the report's font files are registered under.</summary>
    public const string FontFamily = "Lookout Report Sans";

    private static readonly Lazy<(string Regular, string Bold)> Font = new(() =>
    {
        var files = FontLocator.FindSansFiles();
        Fonts.AddFontFile(FontFamily, files.Regular, bold: false, italic: false);
        Fonts.AddFontFile(FontFamily, files.Bold, bold: true, italic: false);
        return files;
    });

    /// <summary>The font files the charts use (registers them on first use).</summary>
    public static (string Regular, string Bold) FontFiles => Font.Value;

    /// <summary>How many classes beside "all classes" the curves show: the most frequent ones.</summary>
    public const int ClassesPlotted = 8;

    /// <summary>Fewer on the F1 chart, which also carries precision and recall.</summary>
    public const int F1ClassesPlotted = 5;

    private static readonly Color Ink = Color.FromHex("#222222");
    private static readonly Color Grid = Color.FromHex("#e6e6e6");

    private static Color PaletteColor(int i)
    {
        var c = AnnotationRenderer.Palette[i % AnnotationRenderer.Palette.Count];
        return new Color(c.Red, c.Green, c.Blue);
    }

    private static string F(double v, string format = "0.000") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The most frequent classes (ground truth), ties by id.</summary>
    public static IReadOnlyList<ClassCurves> MostFrequent(EvaluationCurves curves, int count) =>
        curves.Classes.Where(c => c.GroundTruthCount > 0)
            .OrderByDescending(c => c.GroundTruthCount).ThenBy(c => c.CategoryId).Take(count).ToList();

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        _ = Font.Value;
        var plot = new Plot();
        plot.Font.Set(FontFamily);
        plot.Title(title, size: 17);
        plot.XLabel(xLabel, size: 14);
        plot.YLabel(yLabel, size: 14);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Grid.MajorLineColor = Grid;
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        plot.Legend.FontName = FontFamily;
        plot.Legend.FontSize = 12;
        plot.Legend.SetBestFontOnEachRender = false;
        return plot;
    }

    private static void Save(Plot plot, string path, int width, int height)
    {
        plot.SavePng(path, width, height);
    }

    /// <summary>The 101-point interpolated precision of a class up to the recall it reaches (beyond it the metric
    /// counts 0, which the all-classes mean includes; drawing it for each class would only hide the axis).</summary>
    private static (double[] Recall, double[] Precision) Reached(PrecisionRecallCurve curve)
    {
        var r = EvaluationCurves.RecallThresholds;
        int n = 0;
        while (n < r.Count && r[n] <= curve.MaxRecall + 1e-12) n++;
        return (r.Take(n).ToArray(), curve.InterpolatedPrecision.Take(n).ToArray());
    }

    /// <summary>pr_curve.png: all classes (mean interpolated precision: its mean is AP50) and the most frequent classes.</summary>
    public static void PrecisionRecall(string path, string model, EvaluationCurves curves)
    {
        var plot = NewPlot($"Precision–recall at IoU 0.50 · {model}", "Recall", "Precision");
        foreach (var (c, i) in MostFrequent(curves, ClassesPlotted).Select((c, i) => (c, i)))
        {
            var (r, p) = Reached(c.PrecisionRecall);
            if (r.Length == 0) continue;
            var line = plot.Add.ScatterLine(r, p, PaletteColor(i));
            line.LineWidth = 1.6f;
            line.LegendText = $"{c.Name} ({c.GroundTruthCount}) AP50 {F(c.AP50)}";
        }
        var all = plot.Add.ScatterLine(EvaluationCurves.RecallThresholds.ToArray(), curves.AllClassesPrecision.ToArray(), Ink);
        all.LineWidth = 3.5f;
        all.LegendText = $"all classes AP50 {F(curves.AP50)}";
        plot.ShowLegend(Edge.Right);
        Save(plot, path, 1000, 620);
    }

    /// <summary>f1_curve.png: F1, precision and recall of all objects against the score threshold, the most frequent
    /// classes' F1, and the best threshold marked.</summary>
    public static void F1(string path, string model, EvaluationCurves curves)
    {
        var plot = NewPlot($"F1 against the score threshold · {model}", "Score threshold (min_confidence)", "F1 · precision · recall");
        var t = EvaluationCurves.ScoreThresholds.ToArray();
        foreach (var (c, i) in MostFrequent(curves, F1ClassesPlotted).Select((c, i) => (c, i)))
        {
            var line = plot.Add.ScatterLine(t, c.Sweep.F1.ToArray(), PaletteColor(i).WithAlpha(0.75));
            line.LineWidth = 1.3f;
            line.LegendText = $"F1 {c.Name} ({c.GroundTruthCount})";
        }
        var defined = Enumerable.Range(0, t.Length).Where(j => !double.IsNaN(curves.AllObjects.Precision[j])).ToArray();
        var precision = plot.Add.ScatterLine(defined.Select(j => t[j]).ToArray(), defined.Select(j => curves.AllObjects.Precision[j]).ToArray(), Color.FromHex("#555555"));
        precision.LinePattern = LinePattern.Dashed;
        precision.LineWidth = 2;
        precision.LegendText = "precision, all objects";
        var recall = plot.Add.ScatterLine(t, curves.AllObjects.Recall.ToArray(), Color.FromHex("#555555"));
        recall.LinePattern = LinePattern.Dotted;
        recall.LineWidth = 2.5f;
        recall.LegendText = "recall, all objects";
        var f1 = plot.Add.ScatterLine(t, curves.AllObjects.F1.ToArray(), Ink);
        f1.LineWidth = 3.5f;
        f1.LegendText = "F1, all objects";

        if (curves.Best is { } best)
        {
            var v = plot.Add.VerticalLine(best.ScoreThreshold, 1.5f, PaletteColor(3), LinePattern.Dashed);
            v.LegendText = "";
            var marker = plot.Add.Marker(best.ScoreThreshold, best.F1, MarkerShape.FilledCircle, 11, PaletteColor(3));
            marker.LegendText = "";
            var label = plot.Add.Text($"best F1 {F(best.F1, "0.00")} at score ≥ {F(best.ScoreThreshold, "0.00")}", best.ScoreThreshold, best.F1);
            label.LabelFontName = FontFamily;
            label.LabelFontSize = 14;
            label.LabelBold = true;
            label.LabelFontColor = PaletteColor(3);
            label.LabelBackgroundColor = Colors.White.WithAlpha(0.85);
            label.LabelPadding = 3;
            label.OffsetX = 10;
            label.OffsetY = -10;
            label.LabelAlignment = best.ScoreThreshold > 0.6 ? Alignment.LowerRight : Alignment.LowerLeft;
            if (best.ScoreThreshold > 0.6) label.OffsetX = -10;
        }
        plot.ShowLegend(Edge.Right);
        Save(plot, path, 1000, 620);
    }

    /// <summary>comparison_pr_curve.png: every model's all-classes precision–recall on one chart.</summary>
    public static void ComparisonPrecisionRecall(string path, IReadOnlyList<ModelResult> results)
    {
        var plot = NewPlot("Precision–recall at IoU 0.50, all classes", "Recall", "Precision");
        var r = EvaluationCurves.RecallThresholds.ToArray();
        foreach (var (m, i) in results.Select((m, i) => (m, i)))
        {
            var line = plot.Add.ScatterLine(r, m.Curves.AllClassesPrecision.ToArray(), PaletteColor(i));
            line.LineWidth = 3;
            line.LegendText = $"{m.Name} AP50 {F(m.Curves.AP50)}";
        }
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path, 900, 600);
    }

    /// <summary>
    /// confusion_matrix.png: cells coloured by the row-normalised share, each non-empty cell labelled with its count.
    /// The cell size shrinks with the number of classes (down to 15 px) so that 80 classes stay legible, and the margins
    /// are measured from the longest class name in the chart's own font.
    /// </summary>
    public static void Confusion(string path, string model, ConfusionMatrix cm, string thresholdNote)
    {
        _ = Font.Value;
        var labels = cm.Labels;
        int n = labels.Count;
        float cell = Math.Clamp(900f / n, 15f, 44f);
        float tickSize = Math.Clamp(cell * 0.6f, 9.5f, 14f);
        float countSize = Math.Clamp(cell * 0.45f, 7.5f, 14f);

        var share = new double[n, n];
        for (int row = 0; row < n; row++)
            for (int col = 0; col < n; col++)
                share[row, col] = cm.Counts[row, col] == 0 ? double.NaN : cm.Normalized(row, col);

        var plot = new Plot();
        plot.Font.Set(FontFamily);
        var heat = plot.Add.Heatmap(share);
        heat.Colormap = new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues()); // 0 light, 1 dark
        heat.ManualRange = new ScottPlot.Range(0, 1);
        heat.NaNCellColor = Colors.White;
        // Heatmap rows are drawn from the top: row 0 (the most frequent class) first. Cell (row, col) is centred on (col, n-1-row).
        for (int row = 0; row < n; row++)
            for (int col = 0; col < n; col++)
            {
                int count = cm.Counts[row, col];
                if (count == 0) continue;
                var text = plot.Add.Text(count.ToString(CultureInfo.InvariantCulture), col, n - 1 - row);
                text.LabelFontName = FontFamily;
                text.LabelFontSize = countSize;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = share[row, col] > 0.5 ? Colors.White : Ink;
            }
        // Diagonal and background lines, faint, so the eye finds its way in a big matrix.
        var frame = plot.Add.Line(-0.5, 0.5, n - 1.5, 0.5);
        frame.LineColor = Color.FromHex("#999999");
        frame.LineWidth = 1;
        var frame2 = plot.Add.Line(n - 1.5, 0.5, n - 1.5, n - 0.5);
        frame2.LineColor = Color.FromHex("#999999");
        frame2.LineWidth = 1;

        var ticksX = new ScottPlot.TickGenerators.NumericManual();
        var ticksY = new ScottPlot.TickGenerators.NumericManual();
        for (int i = 0; i < n; i++)
        {
            ticksX.AddMajor(i, labels[i]);
            ticksY.AddMajor(n - 1 - i, labels[i]);
        }
        plot.Axes.Bottom.TickGenerator = ticksX;
        plot.Axes.Left.TickGenerator = ticksY;
        plot.Axes.Bottom.TickLabelStyle.Rotation = -90;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.TickLabelStyle.FontSize = tickSize;
            axis.TickLabelStyle.FontName = FontFamily;
            axis.MajorTickStyle.Length = 3;
            axis.MinorTickStyle.Length = 0;
        }
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Grid.IsVisible = false;
        plot.Title($"Confusion matrix · {model} · IoU 0.50 · {thresholdNote}", size: 16);
        plot.XLabel("Predicted class (background = missed object)", size: 14);
        plot.YLabel("True class (background = false alarm)", size: 14);
        var bar = plot.Add.ColorBar(heat);
        bar.Label = "share of the row";
        bar.LabelStyle.FontSize = 13;
        bar.LabelStyle.FontName = FontFamily;
        var barTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var v in new[] { 0, 0.25, 0.5, 0.75, 1 }) barTicks.AddMajor(v, F(v, "0.##"));
        bar.Axis.TickGenerator = barTicks;
        bar.Axis.TickLabelStyle.FontSize = 12;

        float labelWidth;
        using (var typeface = SkiaSharp.SKTypeface.FromFile(FontFiles.Regular))
        using (var font = new SkiaSharp.SKFont(typeface, tickSize))
            labelWidth = labels.Max(l => font.MeasureText(l));
        int left = (int)(labelWidth + 48), bottom = (int)(labelWidth + 48), top = 44, right = 120;
        int side = (int)MathF.Ceiling(cell * n);
        plot.Layout.Fixed(new PixelPadding(left, right, bottom, top));
        // ScottPlot measures rotated tick labels by their height: move the axis title below them.
        ((ScottPlot.AxisPanels.AxisBase)plot.Axes.Bottom).LabelOffsetY = labelWidth - tickSize;
        Save(plot, path, left + side + right, top + side + bottom);
    }
}
