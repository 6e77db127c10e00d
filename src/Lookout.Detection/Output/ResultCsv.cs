using System.Globalization;

namespace Lookout.Detection.Output;

/// <summary>
/// The CSV shape of detection results: one row per detection,
/// <c>file,class,confidence,bx,by,bw,bh,x1,y1,x2,y2</c>. <c>class,confidence,bx,by,bw,bh</c> are the original
/// project's columns: label, score (4 decimals here), box centre and size as fractions of the image size, two decimals.
/// <c>x1..y2</c> are the box corners in original pixels (one decimal). Invariant culture; fields are quoted
/// (RFC 4180) only when they contain a comma, quote or line break. Images without detections have no rows.
/// </summary>
public static class ResultCsv
{
    public const string Header = "file,class,confidence,bx,by,bw,bh,x1,y1,x2,y2";

    public static void WriteHeader(TextWriter writer) => writer.WriteLine(Header);

    /// <summary>Writes one row per detection of <paramref name="result"/>.</summary>
    public static void WriteRows(TextWriter writer, string file, DetectionResult result)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(result);
        double w = result.ImageWidth, h = result.ImageHeight;
        foreach (var d in result.Detections)
        {
            var b = d.Box;
            writer.WriteLine(string.Join(',',
                Escape(file), Escape(d.Label), F(d.Score, "0.0000"),
                F((b.X1 + b.X2) / 2 / w, "0.00"), F((b.Y1 + b.Y2) / 2 / h, "0.00"), F(b.Width / w, "0.00"), F(b.Height / h, "0.00"),
                F(b.X1, "0.0"), F(b.Y1, "0.0"), F(b.X2, "0.0"), F(b.Y2, "0.0")));
        }
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Escape(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
}
