using Lookout.Cli.Commands;

namespace Lookout.Cli.Evaluation;

/// <summary>One model's line of the comparison table.</summary>
public sealed record ComparisonRow(string Model, double Ap, double Ap50, double Ap75, double ApSmall, double Ar100, double MsPerImage,
    double? BestF1, double? BestF1Threshold);

/// <summary>A class whose AP50 differs between the models; <see cref="Ap50"/> in model order.</summary>
public sealed record ClassDifference(int CategoryId, string Name, int GroundTruthCount, IReadOnlyList<double> Ap50, double Spread);

/// <summary>What <c>lookout eval --model A --model B</c> reports (<c>--json</c> and <c>comparison.json</c>).</summary>
public sealed record EvalComparisonReport(
    IReadOnlyList<ComparisonRow> Table,
    IReadOnlyList<ClassDifference> LargestClassDifferences,
    int ClassDifferenceMinimumObjects,
    IReadOnlyList<EvalReport> Models);

/// <summary>Puts several models' evaluations of the same images side by side.</summary>
internal static class EvalComparison
{
    /// <summary>Classes with fewer objects swing by a whole AP50 on one detection; they are listed only when no class has this many.</summary>
    public const int MinimumObjects = 5;

    public const int ClassesShown = 10;

    public static EvalComparisonReport Create(IReadOnlyList<ModelResult> results)
    {
        var table = results.Select(r =>
        {
            var s = r.Report.Stats;
            return new ComparisonRow(r.Name, s.Ap, s.Ap50, s.Ap75, s.ApSmall, s.Ar100, r.Report.MsPerImage,
                r.Report.BestF1?.F1, r.Report.BestF1?.ScoreThreshold);
        }).ToList();
        return new EvalComparisonReport(table, LargestDifferences(results, out int minimum), minimum, results.Select(r => r.Report).ToList());
    }

    /// <summary>The classes whose AP50 spreads most between the models (largest minus smallest), among classes with at
    /// least <see cref="MinimumObjects"/> objects (or all classes with objects when none has that many).</summary>
    private static List<ClassDifference> LargestDifferences(IReadOnlyList<ModelResult> results, out int minimum)
    {
        minimum = MinimumObjects;
        if (results.Count < 2) return [];
        var first = results[0].Report.PerClass.Where(c => c.GroundTruthCount > 0).ToList();
        var perModel = results.Select(r => r.Report.PerClass.ToDictionary(c => c.CategoryId)).ToList();
        var candidates = first.Where(c => c.GroundTruthCount >= MinimumObjects).ToList();
        if (candidates.Count == 0) { candidates = first; minimum = 1; }
        return candidates
            .Select(c =>
            {
                var ap50 = perModel.Select(m => m.TryGetValue(c.CategoryId, out var x) ? x.Ap50 : -1).ToList();
                return new ClassDifference(c.CategoryId, c.Name, c.GroundTruthCount, ap50, ap50.Max() - ap50.Min());
            })
            .OrderByDescending(d => d.Spread).ThenByDescending(d => d.GroundTruthCount).ThenBy(d => d.CategoryId)
            .Take(ClassesShown)
            .ToList();
    }
}
