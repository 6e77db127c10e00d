using System.Reflection;
using Lookout.Cli.Commands;
using Lookout.Cli.Infrastructure;
using Lookout.Detection.Assets;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Lookout.Cli;

/// <summary>
/// The <c>lookout</c> command line. Exit codes: 0 success, 1 usage error, 2 some inputs failed, 3 could not run, 4 an int8 model failed its accuracy gate
/// (see <see cref="ExitCodes"/>).
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) => RunAsync(args);

    /// <summary>
    /// Runs the CLI in-process. <paramref name="console"/> receives everything meant for people (tables, progress,
    /// errors, help) and <paramref name="stdout"/> the machine output (JSON, CSV); both default to the process streams.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole? console = null, TextWriter? stdout = null,
        CancellationToken cancellationToken = default)
    {
        var env = console is null
            ? CliEnvironment.FromProcess()
            : new CliEnvironment(console, console, stdout ?? Console.Out, stdoutIsTerminal: false);
        if (console is null && stdout is not null) env = new CliEnvironment(env.Console, env.Error, stdout, env.StdoutIsTerminal);

        var app = new CommandApp();
        app.Configure(config =>
        {
            config.Settings.Registrar.RegisterInstance(env);
            config.SetApplicationName("lookout");
            config.SetApplicationVersion(Version);
            config.ConfigureConsole(env.Console);
            config.UseStrictParsing();
            config.SetExceptionHandler((ex, _) => HandleException(env, ex));

            config.AddCommand<DetectCommand>("detect")
                .WithDescription("Detect objects in images and videos: files, folders and globs. Writes a summary table, and optionally annotated JPEGs (videos: H.264 MP4s), JSON, JSONL or CSV. Videos need ffmpeg.")
                .WithExample("detect", "photos/", "--out", "annotated/")
                .WithExample("detect", "clip.mp4", "--vid-stride", "2", "--out", "annotated/")
                .WithExample("detect", "dog.jpg", "--classes", "dog,car", "--json")
                .WithExample("detect", "'photos/**/*.png'", "--csv", "-o", "detections.csv");

            config.AddCommand<ServeCommand>("serve")
                .WithDescription("Run the web service: the original routes, the JSON API, DeepStack-compatible routes and the web page.")
                .WithExample("serve")
                .WithExample("serve", "--port", "443", "--cert", "/etc/letsencrypt/live/example.org/fullchain.pem", "--key", "/etc/letsencrypt/live/example.org/privkey.pem");

            config.AddBranch<GlobalSettings>("models", models =>
            {
                models.SetDescription("List the model catalogue and download models.");
                models.AddCommand<ModelsListCommand>("list")
                    .WithDescription("List every catalogue model and where each of its files was found (or where it would be downloaded from).");
                models.AddCommand<ModelsFetchCommand>("fetch")
                    .WithDescription("Download a catalogue model's files into the user cache (verified by size and SHA-256).")
                    .WithExample("models", "fetch", "yolox-nano");
                models.AddCommand<ModelsImportDarknetCommand>("import-darknet")
                    .WithDescription("Convert a Darknet cfg + weights into an ONNX file (the same graph Lookout runs), for use in other tools.")
                    .WithExample("models", "import-darknet", "--cfg", "yolov4-tiny.cfg", "--weights", "yolov4-tiny.weights", "--names", "coco.names", "--out", "yolov4-tiny.onnx");
                models.AddCommand<ModelsQuantizeCommand>("quantize")
                    .WithDescription("Turn a float model into a faster static int8 (QDQ) model: calibrate on your images, keep sensitive layers float, and refuse it unless it stays as accurate (AP or agreement with float).")
                    .WithExample("models", "quantize", "--model", "yolov8n.onnx", "--calibration", "photos/", "--out", "yolov8n-int8.onnx", "--val-images", "val2017", "--val-coco-json", "instances_val2017.json");
            });

            config.AddCommand<EvalCommand>("eval")
                .WithDescription("Evaluate a model on a labelled image set (YOLO txt labels or COCO instances JSON) with the COCO metrics (AP, AP50, …).")
                .WithExample("eval", "--model", "yolox-nano", "--images", "coco128/images", "--labels", "coco128/labels")
                .WithExample("eval", "--images", "val2017", "--coco-json", "instances_val2017.json", "--save-detections", "dets.json")
                .WithExample("eval", "--model", "yolox-nano", "--model", "yolo-fastest-1.1", "--images", "val2017", "--coco-json", "instances_val2017.json", "--report", "report");
        });
        return await app.RunAsync(args, cancellationToken);
    }

    public static string Version { get; } =
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(Program).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>One clear line per failure and the documented exit code; a stack trace only with LOOKOUT_DEBUG=1.</summary>
    private static int HandleException(CliEnvironment env, Exception ex)
    {
        if (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerException!;
        switch (ex)
        {
            case CommandAppException or UsageException:
                env.WriteError(ex.Message);
                if (ex is CommandAppException) env.Error.MarkupLine("Run [bold]lookout --help[/] or [bold]lookout <command> --help[/] for usage.");
                return ExitCodes.Usage;
            case OperationCanceledException:
                env.WriteError("cancelled.");
                return 130;
            case AssetNotFoundException:
                env.WriteError(ex.Message);
                return ExitCodes.Failure;
            default:
                env.WriteError($"{ex.GetType().Name}: {ex.Message}");
                if (Environment.GetEnvironmentVariable("LOOKOUT_DEBUG") is "1" or "true") env.Error.WriteException(ex);
                return ExitCodes.Failure;
        }
    }
}
