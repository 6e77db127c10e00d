using Lookout.Cli.Infrastructure;
using Lookout.Detection.Tests.Support;

namespace Lookout.Cli.Tests;

public sealed class InputFilesTests
{
    [Theory]
    [InlineData("*.jpg", "dog.jpg", true)]
    [InlineData("*.jpg", "sub/dog.jpg", false)]
    [InlineData("**/*.png", "a.png", true)]
    [InlineData("**/*.png", "a/b/c.png", true)]
    [InlineData("photos/**/*.png", "photos/x/y.png", true)]
    [InlineData("photos/**/*.png", "other/x/y.png", false)]
    [InlineData("img?.jpg", "img1.jpg", true)]
    [InlineData("img[0-4].jpg", "img7.jpg", false)]
    public void Glob_patterns_match_like_a_shell_with_globstar(string pattern, string path, bool expected) =>
        Assert.Equal(expected, InputFiles.ToRegex(pattern).IsMatch(path));

    [Fact]
    public void Folders_and_globs_expand_to_images_and_the_same_file_is_listed_once()
    {
        var images = TestAssets.SharedPath("images");
        var files = InputFiles.Expand([images, Path.Combine(images, "*.jpg"), Path.Combine(images, "dog.jpg")]);
        Assert.Equal(5, files.Count);
        Assert.All(files, f => Assert.Null(f.Problem));
        Assert.Equal("no file matches this pattern", Assert.Single(InputFiles.Expand([Path.Combine(images, "*.tiff")])).Problem);
    }

    [Fact]
    public void Output_names_do_not_collide_for_equal_stems()
    {
        Assert.Equal(["dog.jpg", "dog-2.jpg", "dog-3.jpg", "cat.jpg"],
            InputFiles.OutputNames(["a/dog.jpg", "b/dog.jpg", "a/dog.png", "cat.webp"]));
    }
}
