using Lookout.Detection;
using Lookout.Detection.Models;

namespace Lookout.Cli.Infrastructure;

/// <summary>Parses <c>--classes dog,car</c> or <c>--classes 16,2</c> against a model's class names (the engine's rule, as a usage error).</summary>
public static class ClassFilter
{
    /// <exception cref="UsageException">An unknown name or an id outside the model's classes; the message lists the valid ones.</exception>
    public static IReadOnlySet<int> Parse(string value, DetectionModel model) => Parse(value, model.Names, model.Name);

    public static IReadOnlySet<int> Parse(string value, IReadOnlyList<string> names, string modelName)
    {
        try
        {
            return ClassSelection.Parse(value, names)
                ?? throw new UsageException("--classes is empty: give names or ids, e.g. 'dog,car' or '16,2'.");
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"Model {modelName}: {ex.Message}");
        }
    }
}
