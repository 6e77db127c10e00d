using Spectre.Console;

namespace Lookout.Cli.Infrastructure;

/// <summary>Runs work under a Spectre progress bar on stderr when enabled, or plainly when not.</summary>
public static class ProgressRunner
{
    /// <summary>Runs <paramref name="work"/>, which calls the given callback after each of <paramref name="total"/> items.</summary>
    public static Task RunAsync(IAnsiConsole console, bool enabled, string description, int total, Func<Action<string?>, Task> work) =>
        RunAsync(console, enabled, description, total, (step, _) => work(step));

    /// <summary>As above; the work also gets the progress context (null when no bar is shown) to add bars of its own (a video's frames).</summary>
    public static async Task RunAsync(IAnsiConsole console, bool enabled, string description, int total, Func<Action<string?>, ProgressContext?, Task> work)
    {
        if (!enabled || total == 0)
        {
            await work(_ => { }, null).ConfigureAwait(false);
            return;
        }
        await NewProgress(console).StartAsync(async ctx =>
        {
            var task = ctx.AddTask(Markup.Escape(description), maxValue: total);
            await work(item =>
            {
                task.Increment(1);
                if (item is not null) task.Description = Markup.Escape($"{description} {item}");
            }, ctx).ConfigureAwait(false);
            task.Description = Markup.Escape(description);
        }).ConfigureAwait(false);
    }

    public static Progress NewProgress(IAnsiConsole console) =>
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn());

    public static Progress NewDownloadProgress(IAnsiConsole console) =>
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn());
}
