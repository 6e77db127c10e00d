namespace Lookout.Server;

/// <summary>Headers that keep the page from being framed, sniffed or fed third-party scripts.</summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    private const string PageCsp =
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()";
        // Swagger UI's page uses inline script; everything else is held to 'self'.
        if (!context.Request.Path.StartsWithSegments("/docs"))
            headers.ContentSecurityPolicy = PageCsp;
        return next(context);
    }
}
