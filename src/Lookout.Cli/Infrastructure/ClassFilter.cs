using System.Globalization;
using Lookout.Detection.Models;

namespace Lookout.Cli.Infrastructure;

/// <summary>Parses <c>--classes dog,car</c> or <c>--classes 16,2</c> against a model's class names.</summary>
public static class ClassFilter
{
    /// <exception cref="UsageException">An unknown name or an id outside the model's classes; the message lists the valid ones.</exception>
    public static IReadOnlySet<int> Parse(string value, DetectionModel model) => Parse(value, model.Names, model.Name);

    public static IReadOnlySet<int> Parse(string value, IReadOnlyList<string> names, string modelName)
    {
        var ids = new HashSet<int>();
        foreach (var raw in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                if (id >= names.Count)
                    throw new UsageException($"Class id {id} is out of range: model {modelName} has classes 0..{names.Count - 1}.");
                ids.Add(id);
                continue;
            }
            int index = -1;
            for (int i = 0; i < names.Count && index < 0; i++)
                if (string.Equals(names[i], raw, StringComparison.OrdinalIgnoreCase)) index = i;
            if (index < 0)
                throw new UsageException($"Unknown class '{raw}' for model {modelName}. Valid classes (name or id): " +
                    string.Join(", ", names.Select((n, i) => $"{n} ({i})")) + ".");
            ids.Add(index);
        }
        if (ids.Count == 0) throw new UsageException("--classes is empty: give names or ids, e.g. 'dog,car' or '16,2'.");
        return ids;
    }
}
