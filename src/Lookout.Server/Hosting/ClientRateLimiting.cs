using System.Globalization;
using System.Threading.RateLimiting;
using Lookout.Server.Endpoints;
using Microsoft.AspNetCore.RateLimiting;

namespace Lookout.Server;

/// <summary>
/// Optional per-client rate limiting of the detection routes (ASP.NET Core's rate limiter): a token bucket per client
/// address, off unless Lookout:RateLimit:RequestsPerMinute is set. A refused request gets 429 with Retry-After, in
/// the error shape of the route it called.
/// </summary>
public static class ClientRateLimiting
{
    public const string Policy = "per-client";

    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services, RateLimitOptions options)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, context =>
            {
                if (!options.Enabled) return RateLimitPartition.GetNoLimiter("off");
                // The address after UseForwardedHeaders: the real client behind a trusted proxy.
                var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = 1,
                    ReplenishmentPeriod = TimeSpan.FromMinutes(1) / options.RequestsPerMinute,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromSeconds(1);
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                const string text = "Too many requests from this client; slow down and try again after the Retry-After delay.";
                IResult result = http.Request.Path.StartsWithSegments("/v1")
                    ? new BufferedJson(new DeepStackEndpoints.ErrorResponse(false, text, 0), 429) { Options = BufferedJson.AsDeclared }
                    : http.Request.Path == "/"
                        ? new BufferedJson(new SeedCompatEndpoints.SeedError(text), 429)
                        : Problems.Create(http, 429, "Too many requests", text);
                await result.ExecuteAsync(http);
            };
        });
        return services;
    }
}
