using System.Globalization;

namespace Lookout.Detection;

/// <summary>Parses a user's class filter ("dog,car", "16,2", "traffic light") against a model's class names.</summary>
public static class ClassSelection
{
    /// <summary>Returns the class ids named in <paramref name="spec"/>; null for an empty spec (all classes).</summary>
    /// <exception cref="ArgumentException">A name or id the model does not have; the message lists valid names.</exception>
    public static IReadOnlySet<int>? Parse(string? spec, IReadOnlyList<string> names)
    {
        if (string.IsNullOrWhiteSpace(spec)) return null;
        var ids = new HashSet<int>();
        foreach (var raw in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                if (id >= names.Count)
                    throw new ArgumentException($"Class id {id} is out of range: this model has classes 0–{names.Count - 1}.");
                ids.Add(id);
                continue;
            }
            var index = FindName(names, raw);
            if (index < 0)
                throw new ArgumentException($"Unknown class '{raw}'. Valid classes (name or id): {string.Join(", ", names.Select((n, i) => $"{n} ({i})"))}.");
            ids.Add(index);
        }
        return ids.Count == 0 ? null : ids;
    }

    private static int FindName(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        // Accept "traffic_light" for "traffic light": shells and URLs make spaces awkward.
        var spaced = name.Replace('_', ' ');
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], spaced, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }
}
