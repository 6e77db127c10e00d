using Lookout.Detection.Tests.Support;

namespace Lookout.Browser.Tests;

/// <summary>Where the repository, the shared assets and the test output are.</summary>
public static class TestPaths
{
    /// <summary>The folder that holds Lookout.slnx.</summary>
    public static string RepoRoot => TestAssets.RepositoryRoot;

    /// <summary>test-output/screenshots at the repository root (git-ignored); created on first use.</summary>
    public static string ScreenshotPath(string name) => Path.Combine(TestAssets.TestOutputDirectory("screenshots"), name + ".png");

    /// <summary>A scratch folder for generated files (Y4M video, rotated photos, renamed text files).</summary>
    public static string ScratchDir => TestAssets.TestOutputDirectory("browser-scratch");

    /// <summary>A pinned asset such as "dog.jpg", found and verified by the shared test asset store.</summary>
    public static string Asset(string fileName) => TestAssets.PathOf(fileName);
}
