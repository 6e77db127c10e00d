using Lookout.Detection.Assets;

namespace Lookout.Bench;

/// <summary>The asset store as CI and developers lay it out: ../shared beside the repository, plus LOOKOUT_ASSET_DIRS.</summary>
public static class BenchAssets
{
    public static string RepositoryRoot { get; } = FindRoot();
    public static string Shared => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    /// <summary>LOOKOUT_ASSET_DIRS, then ../shared's model and image folders.</summary>
    public static IReadOnlyList<string> AssetDirectories { get; } =
    [
        .. AssetStoreOptions.SplitDirectories(Environment.GetEnvironmentVariable(AssetStoreOptions.AssetDirsVariable)),
        Path.Combine(Shared, "models"), Path.Combine(Shared, "models", "darknet"), Path.Combine(Shared, "images"),
    ];

    public static AssetStore Store() => new(new AssetStoreOptions { AssetDirectories = [.. AssetDirectories] });

    public static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = p * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lookout.slnx"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
