using Lookout.Server.Endpoints;
using Microsoft.Extensions.Options;

namespace Lookout.Server;

/// <summary>When an API key is configured, refuses requests that do not carry it (X-Api-Key header or api_key form field).</summary>
public sealed class ApiKeyFilter(IOptions<LookoutOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var configured = options.Value.Security.ApiKey;
        if (string.IsNullOrEmpty(configured)) return await next(context);
        var request = context.HttpContext.Request;
        string? formKey = null;
        if (request.HasFormContentType)
        {
            try { formKey = (await request.ReadFormAsync(context.HttpContext.RequestAborted))["api_key"].ToString(); }
            catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException) { /* the endpoint reports the bad form */ }
        }
        if (ApiKeys.Matches(configured, request.Headers["X-Api-Key"].ToString(), formKey)) return await next(context);
        return Problems.Create(context.HttpContext, 401, "API key required", "Send the key in the X-Api-Key header (or the api_key form field).");
    }
}
