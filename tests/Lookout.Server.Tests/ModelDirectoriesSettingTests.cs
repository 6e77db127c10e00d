using Lookout.Detection.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lookout.Server.Tests;

/// <summary>How the models folders are named: a repeatable flag, the configuration list, and what the registry receives.</summary>
public sealed class ModelDirectoriesSettingTests
{
    [Fact]
    public void Each_model_dir_flag_becomes_the_next_entry_of_the_list()
    {
        Assert.Equal(
            ["--port", "8080", "--Lookout:ModelDirectories:0=/srv/a", "--Lookout:ModelDirectories:1=/srv/b", "--model", "x"],
            LookoutServer.ExpandRepeatedSwitches(["--port", "8080", "--model-dir", "/srv/a", "--model-dir=/srv/b", "--model", "x"]));
    }

    [Fact]
    public async Task The_server_watches_every_folder_given_with_model_dir()
    {
        var a = Directory.CreateTempSubdirectory("lookout-dir-a-").FullName;
        var b = Directory.CreateTempSubdirectory("lookout-dir-b-").FullName;
        try
        {
            await using var app = LookoutServer.Build(["--model-dir", a, "--model-dir", b, "--Lookout:AllowDownload=false", "--urls=http://127.0.0.1:0"]);
            Assert.Equal([a, b], app.Services.GetRequiredService<IOptions<LookoutOptions>>().Value.ModelDirectories);
            Assert.Equal([a, b], app.Services.GetRequiredService<ModelRegistry>().Directories);
            Assert.Equal(4, app.Services.GetRequiredService<ModelRegistry>().MaxLoadedModels);
        }
        finally
        {
            Directory.Delete(a);
            Directory.Delete(b);
        }
    }
}
