namespace Lookout.Browser.Tests;

/// <summary>Where the repository, the shared assets and the test output are.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The folder that holds Lookout.slnx, found by walking up from the test assembly.</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>test-output/screenshots at the repository root (git-ignored); created on first use.</summary>
    public static string ScreenshotPath(string name)
    {
        var dir = Path.Combine(RepoRoot, "test-output", "screenshots");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name + ".png");
    }

    /// <summary>A scratch folder for generated files (Y4M video, rotated photos, renamed text files).</summary>
    public static string ScratchDir
    {
        get
        {
            var dir = Path.Combine(RepoRoot, "test-output", "browser-scratch");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>
    /// An asset file such as "dog.jpg": searched in the ':'-separated LOOKOUT_ASSET_DIRS, then in
    /// ../shared/images next to the repository. A missing asset fails the test, naming where it looked.
    /// </summary>
    public static string Asset(string fileName)
    {
        var dirs = AssetDirs();
        foreach (var dir in dirs)
        {
            var path = Path.Combine(dir, fileName);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"Test asset '{fileName}' was not found. Looked in: {string.Join(", ", dirs.Select(d => $"'{d}'"))}. " +
            "Put the shared assets at ../shared/images next to the repository or set LOOKOUT_ASSET_DIRS.", fileName);
    }

    public static IReadOnlyList<string> AssetDirs()
    {
        var dirs = new List<string>();
        var env = Environment.GetEnvironmentVariable("LOOKOUT_ASSET_DIRS");
        if (!string.IsNullOrWhiteSpace(env))
            dirs.AddRange(env.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var shared = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        dirs.Add(Path.Combine(shared, "images"));
        return dirs;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lookout.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException(
            $"Could not find Lookout.slnx in any folder above '{AppContext.BaseDirectory}'.");
    }
}
