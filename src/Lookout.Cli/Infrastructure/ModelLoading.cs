using Lookout.Detection.Assets;
using Lookout.Detection.Models;
using Spectre.Console;

namespace Lookout.Cli.Infrastructure;

/// <summary>Finds asset files and loads models, showing a download progress bar when a file must be fetched.</summary>
public static class ModelLoading
{
    /// <summary>
    /// Loads <paramref name="nameOrPath"/> through <paramref name="catalog"/>. Unknown names and unsupported files are
    /// usage errors; missing files that cannot be downloaded surface as <see cref="AssetNotFoundException"/>.
    /// </summary>
    /// <param name="modelDirectories">Models folders: a name that is neither a catalogue model nor a file is looked up there.</param>
    public static async Task<DetectionModel> LoadAsync(CliEnvironment env, ModelCatalog catalog, string nameOrPath, bool showProgress,
        CancellationToken cancellationToken, IReadOnlyList<string>? modelDirectories = null)
    {
        var info = catalog.Assets.Manifest.FindModel(nameOrPath);
        if (info is null && !File.Exists(nameOrPath) && modelDirectories is { Count: > 0 } && ModelFolders.IsPlainName(nameOrPath)
            && ModelFolders.Scan(modelDirectories, n => catalog.Assets.Manifest.FindModel(n) is not null)
                .FirstOrDefault(m => string.Equals(m.Name, nameOrPath, StringComparison.OrdinalIgnoreCase)) is { } folder)
        {
            if (folder.Problem is not null) throw new UsageException($"Model '{folder.Name}' ({folder.Path}) cannot be used: {folder.Problem}");
            try
            {
                return catalog.OpenFile(folder.Name, folder.Path, folder.WeightsPath, folder.NamesPath);
            }
            catch (Exception ex) when (ex is UnsupportedModelException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or Lookout.Detection.Darknet.DarknetFormatException or InvalidDataException)
            {
                throw new UsageException($"Model '{folder.Name}' ({folder.Path}) cannot be used: {ex.Message}");
            }
        }
        if (info is null && !File.Exists(nameOrPath))
        {
            var looksLikePath = nameOrPath.Contains('/') || nameOrPath.Contains('\\') || Path.HasExtension(nameOrPath);
            throw new UsageException(looksLikePath
                ? $"Model file not found: {nameOrPath}"
                : $"No model named '{nameOrPath}'. Known models: {string.Join(", ", catalog.Known.Select(m => m.Name))}"
                  + (modelDirectories is { Count: > 0 } ? $", or a model in {string.Join(", ", modelDirectories)}" : "")
                  + "; or give the path of an .onnx file.");
        }
        if (info is not null)
            await FetchAsync(env, catalog.Assets, info.Files.Values.Distinct(), showProgress, cancellationToken).ConfigureAwait(false);
        try
        {
            return await catalog.GetAsync(nameOrPath, cancellationToken).ConfigureAwait(false);
        }
        catch (UnsupportedModelException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    /// <summary>Makes sure every named asset is present locally, downloading missing ones (with a progress bar).</summary>
    public static async Task<IReadOnlyList<ResolvedAsset>> FetchAsync(CliEnvironment env, AssetStore store, IEnumerable<string> assetNames,
        bool showProgress, CancellationToken cancellationToken)
    {
        var names = assetNames.ToList();
        var resolved = new List<ResolvedAsset>();
        var missing = new List<string>();
        foreach (var name in names)
        {
            if (store.TryFindLocal(name) is { } local) resolved.Add(local);
            else missing.Add(name);
        }
        if (missing.Count == 0) return resolved;

        // Not downloadable: ResolveAsync throws AssetNotFoundException with every place it looked.
        if (!showProgress)
        {
            foreach (var name in missing)
            {
                var info = store.Manifest.FindAsset(name)!;
                env.Error.MarkupLine(Markup.Escape($"Downloading {name} ({info.Size:N0} bytes) from {info.Url} …"));
                resolved.Add(await store.ResolveAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false));
            }
            return resolved;
        }

        await ProgressRunner.NewDownloadProgress(env.Error).StartAsync(async ctx =>
        {
            foreach (var name in missing)
            {
                var info = store.Manifest.FindAsset(name)!;
                var task = ctx.AddTask(Markup.Escape($"Downloading {name}"), maxValue: info.Size);
                void OnProgress(DownloadProgress p)
                {
                    if (p.AssetName == name) task.Value = p.BytesReceived;
                }
                store.DownloadProgressChanged += OnProgress;
                try
                {
                    resolved.Add(await store.ResolveAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false));
                    task.Value = info.Size;
                }
                finally
                {
                    store.DownloadProgressChanged -= OnProgress;
                    task.StopTask();
                }
            }
        }).ConfigureAwait(false);
        return resolved;
    }
}
