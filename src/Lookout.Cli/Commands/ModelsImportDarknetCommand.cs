using System.ComponentModel;
using Lookout.Cli.Infrastructure;
using Lookout.Detection.Darknet;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli.Commands;

public sealed class ImportDarknetSettings : GlobalSettings
{
    [CommandOption("--cfg <FILE>")]
    [Description("The Darknet network description (.cfg).")]
    public string Cfg { get; init; } = "";

    [CommandOption("--weights <FILE>")]
    [Description("The Darknet weights (.weights); must hold exactly the floats the cfg needs.")]
    public string Weights { get; init; } = "";

    [CommandOption("--names <FILE>")]
    [Description("Class names, one a line (e.g. coco.names); stored in the ONNX metadata so any tool sees them.")]
    public string? Names { get; init; }

    [CommandOption("-o|--out <FILE>")]
    [Description("Where to write the ONNX model.")]
    public string Out { get; init; } = "";

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Cfg) || string.IsNullOrWhiteSpace(Weights) || string.IsNullOrWhiteSpace(Out))
            return ValidationResult.Error("--cfg, --weights and --out are required.");
        foreach (var (option, path) in new[] { ("--cfg", Cfg), ("--weights", Weights), ("--names", Names) })
            if (path is not null && !File.Exists(path)) return ValidationResult.Error($"{option} {path}: no such file.");
        return ValidationResult.Success();
    }
}

/// <summary><c>lookout models import-darknet</c>: writes the ONNX model Lookout builds from a Darknet cfg + weights, for use elsewhere.</summary>
public sealed class ModelsImportDarknetCommand(CliEnvironment env) : Command<ImportDarknetSettings>
{
    public override int Execute(CommandContext context, ImportDarknetSettings settings, CancellationToken cancellationToken)
    {
        DarknetModel model;
        try
        {
            model = DarknetImporter.Import(settings.Cfg, settings.Weights, settings.Names);
        }
        catch (DarknetFormatException ex)
        {
            env.WriteError(ex.Message);
            return ExitCodes.Failure;
        }
        var outPath = Path.GetFullPath(settings.Out);
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        // Write beside the target and rename, so a failed write never leaves half a model under the real name.
        var temp = outPath + ".partial";
        File.WriteAllBytes(temp, model.OnnxBytes);
        File.Move(temp, outPath, overwrite: true);
        var facts = $"input 'images' [1,3,{model.InputHeight},{model.InputWidth}] (RGB 0..1), output 'output' [1,N,{5 + model.ClassCount}] " +
            $"(cx,cy,w,h,objectness,{model.ClassCount} class probabilities), {model.OnnxBytes.Length / 1048576.0:0.0} MB";
        env.Console.MarkupLine($"[green]✓[/] {Markup.Escape(outPath)}: {Markup.Escape(facts)}");
        return ExitCodes.Success;
    }
}
