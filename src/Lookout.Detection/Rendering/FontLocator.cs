using SkiaSharp;

namespace Lookout.Detection.Rendering;

/// <summary>No usable bold sans font: tags would be drawn as empty boxes, so start-up fails instead.</summary>
public sealed class FontNotFoundException(string message) : Exception(message);

/// <summary>
/// Finds a bold sans-serif TTF. The NoDependencies build of Skia has no fontconfig, so system fonts are not
/// found by family name; Lookout looks for known files itself.
/// </summary>
public static class FontLocator
{
    public const string FontPathVariable = "LOOKOUT_FONT";

    private static readonly string[] KnownFiles =
    [
        "DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "NotoSans-Bold.ttf", "FreeSansBold.ttf", "Arial Bold.ttf", "arialbd.ttf",
    ];

    // Regular and bold files of one family, for libraries that take font files (the report's charts).
    private static readonly (string Regular, string Bold)[] KnownFamilies =
    [
        ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"), ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
        ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"), ("FreeSans.ttf", "FreeSansBold.ttf"), ("arial.ttf", "arialbd.ttf"),
    ];

    private static readonly string[] FontRoots =
    [
        "/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts", @"C:\Windows\Fonts",
    ];

    /// <summary>Loads the configured font, or the first known bold sans on the system.</summary>
    public static SKTypeface Load(string? configuredPath = null)
    {
        configuredPath ??= Environment.GetEnvironmentVariable(FontPathVariable);
        var looked = new List<string>();
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            if (TryLoad(configuredPath, looked) is { } configured) return configured;
            throw new FontNotFoundException($"The configured font '{configuredPath}' is not a usable TTF/OTF font ({string.Join("; ", looked)}).");
        }

        foreach (var path in Candidates())
            if (TryLoad(path, looked) is { } typeface) return typeface;

        throw new FontNotFoundException(
            "No bold sans-serif font was found, so detection tags would be drawn without text. Install one " +
            "(Debian: apt-get install fonts-dejavu-core) or set Rendering:FontPath / LOOKOUT_FONT to a .ttf file. Looked for " +
            $"{string.Join(", ", KnownFiles)} under {string.Join(", ", FontRoots)}" + (looked.Count > 0 ? $"; rejected: {string.Join("; ", looked)}" : "."));
    }

    /// <summary>
    /// The files of a regular and a bold sans of one family (e.g. DejaVu Sans), checked like <see cref="Load"/>: for
    /// drawing libraries that are given font files rather than typefaces. The configured font (LOOKOUT_FONT) serves
    /// as both when set.
    /// </summary>
    /// <exception cref="FontNotFoundException">No such pair: text would be drawn as nothing.</exception>
    public static (string Regular, string Bold) FindSansFiles(string? configuredPath = null)
    {
        configuredPath ??= Environment.GetEnvironmentVariable(FontPathVariable);
        var looked = new List<string>();
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            using var configured = TryLoad(configuredPath, looked)
                ?? throw new FontNotFoundException($"The configured font '{configuredPath}' is not a usable TTF/OTF font ({string.Join("; ", looked)}).");
            return (configuredPath, configuredPath);
        }
        foreach (var (regular, bold) in KnownFamilies)
            foreach (var regularPath in Find(regular))
            {
                var boldPath = Path.Combine(Path.GetDirectoryName(regularPath)!, bold);
                using var r = TryLoad(regularPath, looked);
                using var b = r is null ? null : TryLoad(boldPath, looked);
                if (b is not null) return (regularPath, boldPath);
            }
        throw new FontNotFoundException(
            "No regular + bold sans-serif font pair was found, so chart labels would be drawn without text. Install one " +
            $"(Debian: apt-get install fonts-dejavu-core) or set {FontPathVariable} to a .ttf file. Looked for " +
            $"{string.Join(", ", KnownFamilies.Select(f => f.Regular + " + " + f.Bold))} under {string.Join(", ", FontRoots)}" +
            (looked.Count > 0 ? $"; rejected: {string.Join("; ", looked)}" : "."));
    }

    private static IEnumerable<string> Candidates() => KnownFiles.SelectMany(Find);

    private static IEnumerable<string> Find(string file)
    {
        foreach (var root in FontRoots.Where(Directory.Exists))
        {
            IEnumerable<string> hits;
            try { hits = Directory.EnumerateFiles(root, file, new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, MaxRecursionDepth = 4 }); }
            catch (IOException) { continue; }
            foreach (var hit in hits) yield return hit;
        }
    }

    private static SKTypeface? TryLoad(string path, List<string> looked)
    {
        if (!File.Exists(path)) { looked.Add($"{path}: not there"); return null; }
        var typeface = SKTypeface.FromFile(path);
        if (typeface is null) { looked.Add($"{path}: not a font Skia can read"); return null; }
        using var font = new SKFont(typeface, 14);
        if (typeface.GlyphCount == 0 || font.MeasureText("dog 86%") <= 0 || font.GetGlyphs("dog").Any(g => g == 0))
        {
            looked.Add($"{path}: has no Latin glyphs");
            typeface.Dispose();
            return null;
        }
        return typeface;
    }
}
