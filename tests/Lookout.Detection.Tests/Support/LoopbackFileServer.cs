using System.Net;

namespace Lookout.Detection.Tests.Support;

/// <summary>
/// Serves one body (or 404 when null) on a free 127.0.0.1 port: the stand-in for a model's download address.
/// With <c>holdAfter</c> set it sends that many bytes, then waits for <see cref="Release"/> before the rest, so a
/// test can watch a download in progress.
/// </summary>
public sealed class LoopbackFileServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;

    public LoopbackFileServer(byte[]? body, string fileName = "labels.txt", int? holdAfter = null)
    {
        var port = Loopback.FreePort();
        Url = $"http://127.0.0.1:{port}/{fileName}";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); } catch (Exception) { return; }
                Interlocked.Increment(ref _requests);
                _ = Task.Run(() => ServeAsync(context, body, holdAfter));
            }
        });
    }

    private async Task ServeAsync(HttpListenerContext context, byte[]? body, int? holdAfter)
    {
        try
        {
            if (body is null) context.Response.StatusCode = 404;
            else
            {
                context.Response.ContentLength64 = body.Length;
                int first = Math.Min(holdAfter ?? body.Length, body.Length);
                await context.Response.OutputStream.WriteAsync(body.AsMemory(0, first));
                await context.Response.OutputStream.FlushAsync();
                if (first < body.Length)
                {
                    await _release.Task;
                    await context.Response.OutputStream.WriteAsync(body.AsMemory(first));
                }
            }
            context.Response.Close();
        }
        catch (Exception) when (!_listener.IsListening)
        {
            // Disposed mid-response: the test is over.
        }
    }

    public string Url { get; }
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Lets held responses send the rest of their body.</summary>
    public void Release() => _release.TrySetResult();

    public void Dispose()
    {
        _release.TrySetResult();
        _listener.Close();
    }
}
