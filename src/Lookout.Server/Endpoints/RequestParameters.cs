using System.Globalization;
using Lookout.Detection;
using Lookout.Detection.Tiling;

namespace Lookout.Server.Endpoints;

/// <summary>Reads a named parameter from the query string or, failing that, a form field; bad values throw <see cref="ParameterException"/>.</summary>
public sealed class RequestParameters(HttpRequest request, IFormCollection form)
{
    public string? String(string name)
    {
        if (request.Query.TryGetValue(name, out var q) && !string.IsNullOrWhiteSpace(q.ToString())) return q.ToString().Trim();
        if (form.TryGetValue(name, out var f) && !string.IsNullOrWhiteSpace(f.ToString())) return f.ToString().Trim();
        return null;
    }

    public float Float(string name, float fallback, float min, float max, bool minExclusive = false)
    {
        var text = String(name);
        if (text is null) return fallback;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || float.IsNaN(value)
            || value < min || value > max || (minExclusive && value <= min))
            throw new ParameterException($"'{name}' must be a number {(minExclusive ? "greater than" : "from")} {min.ToString(CultureInfo.InvariantCulture)} {(minExclusive ? "and at most" : "to")} {max.ToString(CultureInfo.InvariantCulture)}; got '{text}'.");
        return value;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        var text = String(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new ParameterException($"'{name}' must be a whole number from {min} to {max}; got '{text}'.");
        return value;
    }

    /// <summary>
    /// The sliced-inference options (<c>tile</c>, <c>tile_overlap</c>) on top of <paramref name="options"/>, capped at
    /// <paramref name="maxTiles"/>; bad values throw <see cref="ParameterException"/> naming the parameter.
    /// </summary>
    public DetectionOptions Tiling(DetectionOptions options, int maxTiles) => ApplyTiling(options, String("tile"), String("tile_overlap"), maxTiles);

    /// <summary>The same rules for routes that read form fields themselves (DeepStack).</summary>
    public static DetectionOptions ApplyTiling(DetectionOptions options, string? tile, string? overlap, int maxTiles)
    {
        if (!TileOption.TryParse(tile, out var option, out var error)) throw new ParameterException("'tile' " + error);
        if (option.TileCount > maxTiles) throw new ParameterException("'tile': " + DetectionOptions.TooManyTiles(option, maxTiles));
        float o = DetectionOptions.DefaultTileOverlap;
        if (!string.IsNullOrWhiteSpace(overlap)
            && (!float.TryParse(overlap.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out o) || !(o is >= 0 and <= DetectionOptions.MaxTileOverlap)))
            throw new ParameterException($"'tile_overlap' must be a number from 0 to {DetectionOptions.MaxTileOverlap.ToString(CultureInfo.InvariantCulture)}; got '{overlap.Trim()}'.");
        return options with { Tile = option, TileOverlap = o, MaxTiles = maxTiles };
    }

    public bool Bool(string name, bool fallback)
    {
        var text = String(name);
        if (text is null) return fallback;
        return text.ToLowerInvariant() switch
        {
            "1" or "true" or "yes" or "on" => true,
            "0" or "false" or "no" or "off" => false,
            _ => throw new ParameterException($"'{name}' must be true or false; got '{text}'."),
        };
    }
}
