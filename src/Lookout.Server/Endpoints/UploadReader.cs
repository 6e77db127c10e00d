using Microsoft.AspNetCore.Http.Features;

namespace Lookout.Server.Endpoints;

/// <summary>Why an upload could not be read; each endpoint group words it in its own error shape.</summary>
public sealed class UploadException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>The image bytes of a request and its form fields (empty when the image came as the raw body).</summary>
public sealed record Upload(byte[] Image, IFormCollection Form);

/// <summary>One uploaded image and the file name its part gave (echoed in a batch's per-image errors).</summary>
public sealed record UploadedImage(string FileName, byte[] Bytes);

/// <summary>
/// The images of a request in upload order and its form fields. <see cref="IsBatch"/>: the client sent several
/// images, or used the batch part name, and so gets a list of results rather than one object.
/// </summary>
public sealed record ImageUploads(IReadOnlyList<UploadedImage> Images, IFormCollection Form, bool IsBatch);

/// <summary>
/// Reads an image from a multipart part (by any of the given names) or from a raw body with an image content
/// type. Everything stays in memory: the form options keep multipart buffering off the disk.
/// </summary>
public static class UploadReader
{
    /// <summary>One image for the single-image routes: a repeated part is refused, the first named part wins.</summary>
    public static async Task<Upload> ReadAsync(HttpRequest request, IReadOnlyList<string> partNames, long maxBytes, bool allowRawBody, CancellationToken cancellationToken)
    {
        var uploads = await ReadImagesAsync(request, partNames, batchPartName: null, maxBytes, maxImages: 1, allowRawBody, cancellationToken);
        return new Upload(uploads.Images[0].Bytes, uploads.Form);
    }

    /// <summary>
    /// The image parts of a request in upload order. With <paramref name="batchPartName"/> every part named in
    /// <paramref name="partNames"/> or by it counts, up to <paramref name="maxImages"/>; <paramref name="maxBytes"/>
    /// bounds the whole request, all images together. Without it the request must carry exactly one image.
    /// </summary>
    public static async Task<ImageUploads> ReadImagesAsync(HttpRequest request, IReadOnlyList<string> partNames, string? batchPartName, long maxBytes,
        int maxImages, bool allowRawBody, CancellationToken cancellationToken)
    {
        bool batchRoute = batchPartName is not null;
        if (request.ContentLength > maxBytes + MultipartAllowance)
            throw TooLarge(request, request.ContentLength.Value, maxBytes, batchRoute);

        if (request.HasFormContentType)
        {
            var form = await ReadFormAsync(request, maxBytes, batchRoute, cancellationToken);
            var chosen = new List<IFormFile>();
            if (batchPartName is null)
            {
                foreach (var name in partNames)
                {
                    var files = form.Files.GetFiles(name);
                    if (files.Count > 1)
                        throw new UploadException(StatusCodes.Status400BadRequest, $"The form has {files.Count} '{name}' parts; send one image per request.");
                    if (files.Count == 1)
                    {
                        chosen.Add(files[0]);
                        break;
                    }
                }
            }
            else
            {
                // Upload order, whichever of the names each part used: the answer lists results in this order.
                chosen.AddRange(form.Files.Where(f => f.Name.Equals(batchPartName, StringComparison.OrdinalIgnoreCase)
                                                      || partNames.Contains(f.Name, StringComparer.OrdinalIgnoreCase)));
                if (chosen.Count > maxImages)
                    throw new UploadException(StatusCodes.Status400BadRequest,
                        $"The request has {chosen.Count} images; at most {maxImages} are accepted per request (Lookout:Limits:MaxImagesPerRequest). Send the rest in another request.");
            }
            if (chosen.Count == 0)
            {
                string[] names = batchPartName is null ? [.. partNames] : [.. partNames, batchPartName];
                var wanted = string.Join("' or '", names);
                var hint = names.Any(n => form.ContainsKey(n)) ? $" ('{names.First(n => form.ContainsKey(n))}' came as a text field, not a file)" : "";
                throw new UploadException(StatusCodes.Status400BadRequest, $"No image: send the photo as the multipart file part '{wanted}'{hint}.");
            }

            var images = new List<UploadedImage>(chosen.Count);
            foreach (var file in chosen)
            {
                if (file.Length > maxBytes) throw TooLarge(request, file.Length, maxBytes, batchRoute);
                var bytes = new byte[file.Length];
                await using var stream = file.OpenReadStream();
                await stream.ReadExactlyAsync(bytes, cancellationToken);
                images.Add(new UploadedImage(string.IsNullOrWhiteSpace(file.FileName) ? $"{file.Name} {images.Count + 1}" : file.FileName, bytes));
            }
            bool isBatch = chosen.Count > 1 || chosen.Any(f => f.Name.Equals(batchPartName, StringComparison.OrdinalIgnoreCase));
            return new ImageUploads(images, form, isBatch);
        }

        var contentType = request.ContentType ?? "";
        if (allowRawBody && (contentType.StartsWith("image/", StringComparison.OrdinalIgnoreCase) || contentType.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase)))
        {
            var bytes = await ReadBodyAsync(request, maxBytes, cancellationToken);
            if (bytes.Length == 0) throw new UploadException(StatusCodes.Status400BadRequest, "The request body is empty: send the image bytes.");
            return new ImageUploads([new UploadedImage("body", bytes)], FormCollection.Empty, IsBatch: false);
        }

        if (string.IsNullOrEmpty(contentType) && (request.ContentLength ?? 0) == 0)
            throw new UploadException(StatusCodes.Status400BadRequest, "No image: the request has no body.");
        throw new UploadException(StatusCodes.Status415UnsupportedMediaType,
            $"Content type '{contentType}' is not accepted: send multipart/form-data with the image as part '{partNames[0]}'" +
            (allowRawBody ? ", or the image bytes as the body with an image/* content type." : "."));
    }

    private static async Task<IFormCollection> ReadFormAsync(HttpRequest request, long maxBytes, bool batchRoute, CancellationToken cancellationToken)
    {
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (BadHttpRequestException ex)
        {
            throw ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? TooLarge(request, request.ContentLength ?? -1, maxBytes, batchRoute)
                : new UploadException(ex.StatusCode is >= 400 and < 500 ? ex.StatusCode : StatusCodes.Status400BadRequest,
                    $"The form could not be read: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            // Only the size limits make an upload too large; the form reader's other limits (boundary length,
            // part header size and count, field count) are broken or abusive framing: 400 with its own message.
            throw ex.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase)
                  || ex.Message.Contains("value length limit", StringComparison.OrdinalIgnoreCase)
                ? TooLarge(request, request.ContentLength ?? -1, maxBytes, batchRoute)
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
        return form;
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

    private static UploadException TooLarge(HttpRequest request, long size, long maxBytes, bool batchRoute = false)
    {
        // A refused body is left (partly) unread, and Kestrel drains no more than MaxRequestBodySize of it before
        // dropping the connection after the answer. Say so, or a keep-alive client sends its next request down a
        // socket that is about to close, and that request fails with no response.
        request.HttpContext.Response.Headers.Connection = "close";
        return TooLargeError(size, maxBytes, batchRoute);
    }

    private static UploadException TooLargeError(long size, long maxBytes, bool batchRoute) => new(StatusCodes.Status413PayloadTooLarge,
        (size > 0
            ? $"The upload is {size / 1048576.0:0.#} MiB; the limit is {maxBytes / 1048576.0:0.#} MiB."
            : $"The upload is over the {maxBytes / 1048576.0:0.#} MiB limit.")
        + (batchRoute ? " The limit is for the whole request, all its images together: send fewer or smaller images." : ""));

    /// <summary>Form options that keep every multipart body in memory up to the upload limit.</summary>
    public static void Configure(FormOptions options, long maxBytes, int maxImages)
    {
        long limit = maxBytes + MultipartAllowance;
        options.MultipartBodyLengthLimit = limit;
        options.MemoryBufferThreshold = (int)Math.Min(int.MaxValue, limit);
        options.BufferBodyLengthLimit = limit;
        // Fields plus file parts: room for every image of a batch and the parameters, so one image too many
        // meets the clear count message rather than the form reader's.
        options.ValueCountLimit = Math.Max(64, maxImages + 48);
    }
}
