using System.ComponentModel;
using System.Text.Json;
using Lookout.Cli.Infrastructure;
using Lookout.Detection.Assets;
using Lookout.Detection.Quantization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class ModelsListSettings : GlobalSettings
{
    [CommandOption("--json")]
    [Description("Write the list as JSON to stdout.")]
    public bool Json { get; init; }
}

/// <summary><c>lookout models list</c>: the catalogue and where each model's files are.</summary>
public sealed class ModelsListCommand(CliEnvironment env) : Command<ModelsListSettings>
{
    public override int Execute(CommandContext context, ModelsListSettings settings, CancellationToken cancellationToken)
    {
        var store = settings.CreateAssetStore();
        var report = Build(store, !settings.Offline);
        if (settings.Json)
        {
            env.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.ModelListReport));
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Rounded).Expand()
            .AddColumn("Model").AddColumn("Family").AddColumn("Description").AddColumn("Files");
        foreach (var m in report.Models)
        {
            var files = string.Join("\n", m.Files.Select(f => f.Found
                ? $"[green]{Markup.Escape(f.Asset)}[/]: {Markup.Escape(f.Path!)} [dim]({Markup.Escape(f.Source!)})[/]"
                : $"[yellow]{Markup.Escape(f.Asset)}[/]: missing " + Markup.Escape(report.DownloadsEnabled
                    ? $"(will download {f.Size:N0} bytes from {f.Url})"
                    : $"(downloads are off; it is at {f.Url})")));
            table.AddRow(new Markup($"[bold]{Markup.Escape(m.Name)}[/]"), new Text(m.Family), new Text(m.Description), new Markup(files));
        }
        env.Console.Write(table);
        if (report.Int8Models.Count > 0)
        {
            var int8 = new Table().Border(TableBorder.Rounded).Expand().Title("int8 models (made by 'lookout models quantize')")
                .AddColumn("Model").AddColumn("Precision").AddColumn("Source").AddColumn("Gate").AddColumn("Path");
            foreach (var q in report.Int8Models)
                int8.AddRow(new Markup($"[bold]{Markup.Escape(q.Name)}[/]"), new Text("int8"),
                    new Text($"{q.Source} (sha256 {q.SourceSha256[..Math.Min(12, q.SourceSha256.Length)]}…, {q.CalibrationImages} calibration images, {q.Method}" +
                        (q.FloatLayers.Count > 0 ? $", {q.FloatLayers.Count} layers float)" : ")")),
                    new Text(q.Gate), new Text(q.Path));
            env.Console.Write(int8);
            if (Cpu.HasVnni() == false) env.WriteWarning(Cpu.NoVnniWarning);
        }
        env.Console.MarkupLine(Markup.Escape($"Asset folders: {(report.AssetDirectories.Count == 0 ? "(none: use --asset-dir or $" + AssetStoreOptions.AssetDirsVariable + ")" : string.Join(", ", report.AssetDirectories))}"));
        env.Console.MarkupLine(Markup.Escape($"Cache: {report.CacheDirectory}"));
        return ExitCodes.Success;
    }

    public static ModelListReport Build(AssetStore store, bool downloadsEnabled)
    {
        var models = store.Manifest.Models.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => new ModelEntry(
            m.Name, m.Family, m.Description,
            m.Files.Select(kv =>
            {
                var info = store.Manifest.FindAsset(kv.Value)!;
                var local = store.TryFindLocal(kv.Value);
                return new ModelFileEntry(kv.Key, kv.Value, local is not null, local?.Path, local is null ? null : SourceName(local.Source), info.Url, info.Size, info.Sha256);
            }).ToList())).ToList();
        return new ModelListReport([.. store.AssetDirectories], store.CacheDirectory, downloadsEnabled, models, FindInt8(store.AssetDirectories));
    }

    /// <summary>The .onnx files in the asset folders that carry the quantiser's facts in their metadata.</summary>
    public static IReadOnlyList<Int8ModelEntry> FindInt8(IEnumerable<string> folders)
    {
        var found = new List<Int8ModelEntry>();
        foreach (var folder in folders.Where(Directory.Exists).Distinct())
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.onnx").Order(StringComparer.Ordinal))
            {
                QuantizationFacts? facts;
                try { facts = QuantizationFacts.ReadFile(file); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Google.Protobuf.InvalidProtocolBufferException) { continue; }
                if (facts is not null)
                    found.Add(new Int8ModelEntry(Path.GetFileNameWithoutExtension(file), file, facts.Source, facts.SourceSha256,
                        facts.CalibrationImages, facts.Method, facts.FloatLayers, facts.Gate));
            }
        }
        return found;
    }

    public static string SourceName(AssetSource source) => source switch
    {
        AssetSource.AssetDirectory => "asset dir",
        AssetSource.UserCache => "cache",
        AssetSource.Downloaded => "downloaded",
        _ => "explicit path",
    };
}

public sealed record ModelListReport(IReadOnlyList<string> AssetDirectories, string CacheDirectory, bool DownloadsEnabled, IReadOnlyList<ModelEntry> Models,
    IReadOnlyList<Int8ModelEntry> Int8Models);
public sealed record Int8ModelEntry(string Name, string Path, string Source, string SourceSha256, int CalibrationImages, string Method,
    IReadOnlyList<string> FloatLayers, string Gate);
public sealed record ModelEntry(string Name, string Family, string Description, IReadOnlyList<ModelFileEntry> Files);
public sealed record ModelFileEntry(string Role, string Asset, bool Found, string? Path, string? Source, string Url, long Size, string Sha256);
