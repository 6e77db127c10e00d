using Lookout.Detection.Imaging;
using Lookout.Detection.Models;
using Lookout.Server.Services;

namespace Lookout.Server.Endpoints;

/// <summary>A request failure as status, short title and a sentence for the user; each route group renders it in its own shape.</summary>
public sealed record RequestError(int Status, string Title, string Detail, TimeSpan? RetryAfter = null)
{
    /// <summary>Classifies the failures a detection request can meet. Unknown exceptions return null: they are faults.</summary>
    public static RequestError? From(Exception exception) => exception switch
    {
        UploadException u => new(u.StatusCode, TitleFor(u.StatusCode), u.Message),
        ImageDecodeException d => d.Kind switch
        {
            ImageErrorKind.UnsupportedFormat => new(415, "Not an image", d.Message),
            ImageErrorKind.TooManyBytes or ImageErrorKind.TooManyPixels => new(413, "Image too large", d.Message),
            ImageErrorKind.Empty => new(400, "Empty upload", d.Message),
            _ => new(400, "Unreadable image", d.Message),
        },
        InvalidModelNameException m => new(400, "Unknown model", m.Message),
        ModelNotFoundException m => new(404, "Unknown model", m.Message),
        ModelUnusableException m => new(503, "Model unusable", m.Message),
        ModelDownloadingException d => new(503, "Model downloading", d.Message, TimeSpan.FromSeconds(5)),
        ParameterException p => new(400, "Bad parameter", p.Message),
        GateRefusedException { Reason: GateRefusal.QueueFull } => new(503, "Server busy",
            "Every inference slot and queue place is taken; try again in a moment.", TimeSpan.FromSeconds(1)),
        GateRefusedException { Reason: GateRefusal.TimedOut } or DeadlineExceededException => new(504, "Timed out",
            "The detection did not finish within the request deadline; the server is overloaded.", TimeSpan.FromSeconds(2)),
        GateRefusedException { Reason: GateRefusal.ClientGone } or OperationCanceledException => new(499, "Client closed request", "The client went away."),
        Lookout.Detection.Assets.AssetNotFoundException a => new(503, "Model unavailable", a.Message, TimeSpan.FromSeconds(30)),
        UnsupportedModelException u => new(503, "Model unavailable", u.Message, TimeSpan.FromSeconds(30)),
        _ => null,
    };

    private static string TitleFor(int status) => status switch
    {
        406 => "Not acceptable",
        408 => "Request body too slow",
        413 => "Image too large",
        415 => "Unsupported content type",
        _ => "Bad request",
    };
}

/// <summary>A request parameter with a bad value; the message names the parameter and what is allowed.</summary>
public sealed class ParameterException(string message) : Exception(message);

