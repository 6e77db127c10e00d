namespace Lookout.Detection.Tests.Darknet;

/// <summary>Finds the shared, never-committed model and image files. A missing file fails the
/// test with the places that were searched, so a broken checkout is never mistaken for a pass.</summary>
internal static class DarknetTestAssets
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Find(string fileName)
    {
        var dirs = SearchDirectories();
        foreach (var dir in dirs)
        {
            var candidate = Path.Combine(dir, fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"Test asset '{fileName}' is missing. Looked in: {string.Join(", ", dirs)}. " +
            "Put the shared assets (see shared/ASSETS.md) in ../shared beside the repository, or list their directories in LOOKOUT_ASSET_DIRS (':'-separated).");
        throw new InvalidOperationException("unreachable");
    }

    private static List<string> SearchDirectories()
    {
        var dirs = new List<string>();
        var fromEnv = Environment.GetEnvironmentVariable("LOOKOUT_ASSET_DIRS");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            dirs.AddRange(fromEnv.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        var shared = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        dirs.Add(Path.Combine(shared, "models", "darknet"));
        dirs.Add(Path.Combine(shared, "images"));
        return dirs;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lookout.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Lookout.slnx above the test assembly directory {AppContext.BaseDirectory}.");
    }
}

/// <summary>A directory deleted with everything in it when the test is done.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lookout-darknet-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp dir must not fail the test.
        }
    }
}
