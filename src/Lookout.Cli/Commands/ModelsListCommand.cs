using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Lookout.Cli.Infrastructure;
using Lookout.Detection.Assets;
using Lookout.Detection.Models;
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

/// <summary><c>lookout models list</c>: the catalogue and the models folders, with each model's facts, state and where its files are.</summary>
public sealed class ModelsListCommand(CliEnvironment env) : Command<ModelsListSettings>
{
    public override int Execute(CommandContext context, ModelsListSettings settings, CancellationToken cancellationToken)
    {
        var store = settings.CreateAssetStore();
        var report = Build(store, !settings.Offline, settings.AllModelDirectories());
        if (settings.Json)
        {
            env.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.ModelListReport));
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Rounded).Expand()
            .AddColumn("Model").AddColumn("Family").AddColumn(new TableColumn("Input").RightAligned())
            .AddColumn(new TableColumn("COCO AP").RightAligned()).AddColumn(new TableColumn("Size").RightAligned())
            .AddColumn("Licence").AddColumn("State").AddColumn("Where");
        foreach (var m in report.Models)
        {
            var state = m.State switch
            {
                "available" => "[green]available[/]",
                "error" => "[red]error[/]: " + Markup.Escape(m.Error ?? ""),
                _ => "[yellow]" + Markup.Escape(m.State) + "[/]",
            };
            // The table says where each model is in one line; --json lists every file with its address and checksum.
            var where = m.State is "downloadable" or "missing" && m.Files.FirstOrDefault(f => !f.Found) is { } absent
                ? $"{Markup.Escape(m.Location)} [dim]({Markup.Escape(absent.Url)})[/]"
                : Markup.Escape(m.Location);
            table.AddRow(new Markup($"[bold]{Markup.Escape(m.Name)}[/]" + (m.Origin == "folder" ? " [dim](folder)[/]" : "")),
                new Text(m.Family), new Text(m.InputSize?.ToString(CultureInfo.InvariantCulture) ?? "-"),
                new Text(m.CocoAp?.ToString("0.0", CultureInfo.InvariantCulture) ?? "-"),
                new Text(m.FileSize is { } size ? (size / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB" : "-"),
                new Text(m.Licence ?? "-"), new Markup(state), new Markup(where));
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
            Cpu.WarnWithoutVnni(env);
        }
        env.Console.MarkupLine(Markup.Escape($"Asset folders: {(report.AssetDirectories.Count == 0 ? "(none: use --asset-dir or $" + AssetStoreOptions.AssetDirsVariable + ")" : string.Join(", ", report.AssetDirectories))}"));
        env.Console.MarkupLine(Markup.Escape($"Models folders: {(report.ModelDirectories.Count == 0 ? "(none: use --model-dir or $" + ModelFolders.EnvironmentPrefix + "0)" : string.Join(", ", report.ModelDirectories))}"));
        env.Console.MarkupLine(Markup.Escape($"Cache: {report.CacheDirectory}"));
        return ExitCodes.Success;
    }

    public static ModelListReport Build(AssetStore store, bool downloadsEnabled, IReadOnlyList<string>? modelDirectories = null)
    {
        var models = store.Manifest.Models.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m =>
        {
            var files = m.Files.Select(kv =>
            {
                var info = store.Manifest.FindAsset(kv.Value)!;
                var local = store.TryFindLocal(kv.Value);
                return new ModelFileEntry(kv.Key, kv.Value, local is not null, local?.Path, local is null ? null : SourceName(local.Source), info.Url, info.Size, info.Sha256);
            }).ToList();
            var where = store.Locate(m);
            string state = where.Complete ? "available" : downloadsEnabled ? "downloadable" : "missing";
            return new ModelEntry(m.Name, m.Family, m.Description, files)
            {
                Origin = "catalogue", State = state, InputSize = m.InputSize, CocoAp = m.CocoAp, Licence = store.Manifest.LicenceOf(m),
                FileSize = store.Manifest.TotalSize(m), Location = where.Describe(downloadsEnabled),
            };
        }).ToList();
        var directories = modelDirectories ?? [];
        foreach (var f in ModelFolders.Scan(directories, n => store.Manifest.FindModel(n) is not null))
        {
            models.Add(new ModelEntry(f.Name, f.Kind == "darknet" ? "darknet" : "onnx", $"Models folder: {Path.GetFileName(f.Path)}", [])
            {
                Origin = "folder", State = f.Problem is null ? "available" : "error", Error = f.Problem, FileSize = f.Size, Location = f.Path,
            });
        }
        return new ModelListReport([.. store.AssetDirectories], store.CacheDirectory, downloadsEnabled, models)
        {
            ModelDirectories = directories,
            Int8Models = FindInt8(store.AssetDirectories.Concat(directories)),
        };
    }

    /// <summary>The .onnx files in the asset and models folders that carry the quantiser's facts in their metadata.</summary>
    public static IReadOnlyList<Int8ModelEntry> FindInt8(IEnumerable<string> folders)
    {
        var found = new List<Int8ModelEntry>();
        foreach (var folder in folders.Where(Directory.Exists).Distinct())
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.onnx").Order(StringComparer.Ordinal))
            {
                QuantizationFacts? facts;
                try { facts = QuantizationFacts.ReadFile(file); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; } // not ONNX: ReadFile returns null
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

public sealed record ModelListReport(IReadOnlyList<string> AssetDirectories, string CacheDirectory, bool DownloadsEnabled, IReadOnlyList<ModelEntry> Models)
{
    public IReadOnlyList<string> ModelDirectories { get; init; } = [];
    public IReadOnlyList<Int8ModelEntry> Int8Models { get; init; } = [];
}

/// <summary>A catalogue or models-folder model: the catalogue's facts, its state (available, downloadable, missing, error) and where it is.</summary>
public sealed record ModelEntry(string Name, string Family, string Description, IReadOnlyList<ModelFileEntry> Files)
{
    public string Origin { get; init; } = "catalogue";
    public string State { get; init; } = "available";
    public string? Error { get; init; }
    public int? InputSize { get; init; }
    public double? CocoAp { get; init; }
    public string? Licence { get; init; }
    public long? FileSize { get; init; }
    public string Location { get; init; } = "";
}

public sealed record Int8ModelEntry(string Name, string Path, string Source, string SourceSha256, int CalibrationImages, string Method,
    IReadOnlyList<string> FloatLayers, string Gate);
public sealed record ModelFileEntry(string Role, string Asset, bool Found, string? Path, string? Source, string Url, long Size, string Sha256);
