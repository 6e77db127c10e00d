using Microsoft.AspNetCore.Http.Features;

namespace Lookout.Server.Endpoints;

/// <summary>Why an upload could not be read; each endpoint group words it in its own error shape.</summary>
public sealed class UploadException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>The image bytes of a request and its form fields (empty when the image came as the raw body).</summary>
public sealed record Upload(byte[] Image, IFormCollection Form);

/// <summary>
/// Reads an image from a multipart part (by any of the given names) or from a raw body with an image content
/// type. Everything stays in memory: the form options keep multipart buffering off the disk.
/// </summary>
public static class UploadReader
{
    public static async Task<Upload> ReadAsync(HttpRequest request, IReadOnlyList<string> partNames, long maxBytes, bool allowRawBody, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes + MultipartAllowance)
            throw TooLarge(request, request.ContentLength.Value, maxBytes);

        if (request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(cancellationToken);
            }
            catch (BadHttpRequestException ex)
            {
                throw ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? TooLarge(request, request.ContentLength ?? -1, maxBytes)
                    : new UploadException(ex.StatusCode is >= 400 and < 500 ? ex.StatusCode : StatusCodes.Status400BadRequest,
                        $"The form could not be read: {ex.Message}");
            }
            catch (InvalidDataException ex)
            {
                // Only the size limits make an upload too large; the form reader's other limits (boundary length,
                // part header size and count, field count) are broken or abusive framing: 400 with its own message.
                throw ex.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase)
                      || ex.Message.Contains("value length limit", StringComparison.OrdinalIgnoreCase)
                    ? TooLarge(request, request.ContentLength ?? -1, maxBytes)
                    : new UploadException(StatusCodes.Status400BadRequest, $"The multipart body is malformed: {ex.Message}");
            }
            catch (IOException ex) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
            {
                // The multipart reader's "Unexpected end of Stream": the body ended before the closing boundary
                // (a boundary that never closes, one that does not match the header's, or bytes that are no multipart
                // at all). Bad framing from the client, not a server fault. (A client that left is still a cancellation.)
                throw new UploadException(StatusCodes.Status400BadRequest,
                    $"The multipart body ends before its closing boundary (is the boundary in the Content-Type the one used in the body?): {ex.Message}");
            }

            foreach (var name in partNames)
            {
                var files = form.Files.GetFiles(name);
                if (files.Count > 1)
                    throw new UploadException(StatusCodes.Status400BadRequest, $"The form has {files.Count} '{name}' parts; send one image per request.");
                if (files.Count == 1)
                {
                    var file = files[0];
                    if (file.Length > maxBytes) throw TooLarge(request, file.Length, maxBytes);
                    var bytes = new byte[file.Length];
                    await using var stream = file.OpenReadStream();
                    await stream.ReadExactlyAsync(bytes, cancellationToken);
                    return new Upload(bytes, form);
                }
            }
            var wanted = string.Join("' or '", partNames);
            var hint = partNames.Any(n => form.ContainsKey(n)) ? $" ('{partNames.First(n => form.ContainsKey(n))}' came as a text field, not a file)" : "";
            throw new UploadException(StatusCodes.Status400BadRequest, $"No image: send the photo as the multipart file part '{wanted}'{hint}.");
        }

        var contentType = request.ContentType ?? "";
        if (allowRawBody && (contentType.StartsWith("image/", StringComparison.OrdinalIgnoreCase) || contentType.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase)))
        {
            var bytes = await ReadBodyAsync(request, maxBytes, cancellationToken);
            if (bytes.Length == 0) throw new UploadException(StatusCodes.Status400BadRequest, "The request body is empty: send the image bytes.");
            return new Upload(bytes, FormCollection.Empty);
        }

        if (string.IsNullOrEmpty(contentType) && (request.ContentLength ?? 0) == 0)
            throw new UploadException(StatusCodes.Status400BadRequest, "No image: the request has no body.");
        throw new UploadException(StatusCodes.Status415UnsupportedMediaType,
            $"Content type '{contentType}' is not accepted: send multipart/form-data with the image as part '{partNames[0]}'" +
            (allowRawBody ? ", or the image bytes as the body with an image/* content type." : "."));
    }

    // Multipart framing (boundaries, part headers, small text fields) on top of the image itself.
    public const long MultipartAllowance = 64 * 1024;

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream(request.ContentLength is { } known and <= int.MaxValue ? (int)known : 64 * 1024);
        var chunk = new byte[81920];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes) throw TooLarge(request, request.ContentLength ?? buffer.Length + read, maxBytes);
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel ends a body that breaks its rules: too large (413), too slow for MinRequestBodyDataRate (408),
            // shorter than its Content-Length or badly chunked (400). Each is the client's fault: a 4xx, never a 500.
            throw ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? TooLarge(request, request.ContentLength ?? -1, maxBytes)
                : new UploadException(ex.StatusCode is >= 400 and < 500 ? ex.StatusCode : StatusCodes.Status400BadRequest,
                    $"The request body could not be read: {ex.Message}");
        }
        return buffer.ToArray();
    }

    private static UploadException TooLarge(HttpRequest request, long size, long maxBytes)
    {
        // A refused body is left (partly) unread, and Kestrel drains no more than MaxRequestBodySize of it before
        // dropping the connection after the answer. Say so, or a keep-alive client sends its next request down a
        // socket that is about to close, and that request fails with no response.
        request.HttpContext.Response.Headers.Connection = "close";
        return TooLargeError(size, maxBytes);
    }

    private static UploadException TooLargeError(long size, long maxBytes) => new(StatusCodes.Status413PayloadTooLarge,
        size > 0
            ? $"The upload is {size / 1048576.0:0.#} MiB; the limit is {maxBytes / 1048576.0:0.#} MiB."
            : $"The upload is over the {maxBytes / 1048576.0:0.#} MiB limit.");

    /// <summary>Form options that keep every multipart body in memory up to the upload limit.</summary>
    public static void Configure(FormOptions options, long maxBytes)
    {
        long limit = maxBytes + MultipartAllowance;
        options.MultipartBodyLengthLimit = limit;
        options.MemoryBufferThreshold = (int)Math.Min(int.MaxValue, limit);
        options.BufferBodyLengthLimit = limit;
        options.ValueCountLimit = 64;
    }
}
