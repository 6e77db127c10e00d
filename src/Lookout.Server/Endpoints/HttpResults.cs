using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lookout.Server.Endpoints;

/// <summary>
/// JSON written from a buffer with a Content-Length, never chunked: Blue Iris cannot read chunked responses, and
/// the bodies are small enough that buffering costs nothing.
/// </summary>
public sealed class BufferedJson(object value, int statusCode, string contentType = "application/json") : IResult
{
    public static readonly JsonSerializerOptions SnakeCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>DeepStack and CodeProject.AI name fields in camelCase except the box fields, which the DTOs spell out.</summary>
    public static readonly JsonSerializerOptions AsDeclared = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public JsonSerializerOptions Options { get; init; } = SnakeCase;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Options);
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = contentType;
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, httpContext.RequestAborted);
    }
}

/// <summary>RFC 9457 problem details, written as <see cref="BufferedJson"/>.</summary>
public static class Problems
{
    public sealed record ProblemBody(string Type, string Title, int Status, string Detail, string? TraceId);

    public static IResult Create(HttpContext context, int status, string title, string detail, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } wait)
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var body = new ProblemBody($"https://httpstatuses.io/{status}", title, status, detail, context.TraceIdentifier);
        return new BufferedJson(body, status, "application/problem+json") { Options = CamelCase };
    }

    private static readonly JsonSerializerOptions CamelCase = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
