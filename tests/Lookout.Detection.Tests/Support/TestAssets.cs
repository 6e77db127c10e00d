using Lookout.Detection.Assets;

namespace Lookout.Detection.Tests.Support;

/// <summary>
/// Finds the real model and images the way CI provides them: ../shared beside the repository, plus any folders
/// in LOOKOUT_ASSET_DIRS. Downloads are off, so a missing asset fails the test with the store's message naming
/// the file and every place it looked.
/// </summary>
public static class TestAssets
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string SharedDirectory => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    public static IReadOnlyList<string> AssetDirectories { get; } =
    [
        .. AssetStoreOptions.SplitDirectories(Environment.GetEnvironmentVariable(AssetStoreOptions.AssetDirsVariable)),
        Path.Combine(SharedDirectory, "models"),
        Path.Combine(SharedDirectory, "models", "darknet"),
        Path.Combine(SharedDirectory, "images"),
    ];

    public static AssetStore Store { get; } = new(new AssetStoreOptions
    {
        AssetDirectories = [.. AssetDirectories],
        AllowDownload = false,
    });

    /// <summary>The path of a pinned asset; throws with the store's explanation when it is missing.</summary>
    public static string PathOf(string name) => Store.Resolve(name).Path;

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    /// <summary>A file under ../shared that is not in the manifest (evaluation data); fails loudly when absent.</summary>
    public static string SharedPath(params string[] parts)
    {
        var path = Path.Combine([SharedDirectory, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"Test data '{Path.Combine(parts)}' is missing: looked at {path}. CI lays ../shared beside the repository.");
        return path;
    }

    public static string TestOutputDirectory(string name)
    {
        var dir = Path.Combine(RepositoryRoot, "test-output", name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Lookout.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"Could not find Lookout.slnx above {AppContext.BaseDirectory}.");
    }
}
