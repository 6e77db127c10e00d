using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Lookout.Server;

/// <summary>Checks the whole settings tree at start-up, so a bad value stops the server with a message naming it.</summary>
public sealed class LookoutOptionsValidation : IValidateOptions<LookoutOptions>
{
    public ValidateOptionsResult Validate(string? name, LookoutOptions options)
    {
        var failures = new List<string>();
        Check(options, "Lookout", failures);
        Check(options.Limits, "Lookout:Limits", failures);
        Check(options.Https, "Lookout:Https", failures);
        Check(options.Archive, "Lookout:Archive", failures);
        Check(options.Page, "Lookout:Page", failures);
        Check(options.RateLimit, "Lookout:RateLimit", failures);

        var https = options.Https;
        if (string.IsNullOrWhiteSpace(https.CertificatePath) != string.IsNullOrWhiteSpace(https.KeyPath))
            failures.Add("Lookout:Https needs both CertificatePath and KeyPath (e.g. Let's Encrypt's fullchain.pem and privkey.pem), or neither.");
        if (https.Enabled)
        {
            if (!File.Exists(https.CertificatePath)) failures.Add($"Lookout:Https:CertificatePath '{https.CertificatePath}' does not exist.");
            if (!File.Exists(https.KeyPath)) failures.Add($"Lookout:Https:KeyPath '{https.KeyPath}' does not exist (is it readable by this user?).");
        }
        if (options.Cors.AllowedOrigins.Any(o => o != "*" && !Uri.TryCreate(o, UriKind.Absolute, out _)))
            failures.Add($"Lookout:Cors:AllowedOrigins must be '*' or absolute origins like https://example.org; got {string.Join(", ", options.Cors.AllowedOrigins)}.");
        foreach (var proxy in options.TrustedProxies)
            if (!(proxy.Contains('/') ? System.Net.IPNetwork.TryParse(proxy, out _) : System.Net.IPAddress.TryParse(proxy, out _)))
                failures.Add($"Lookout:TrustedProxies: '{proxy}' is neither an IP address nor a CIDR network (e.g. 10.0.0.0/8).");
        foreach (var dir in options.AssetDirectories.Where(d => !Directory.Exists(d)))
            failures.Add($"Lookout:AssetDirectories names '{dir}', which does not exist.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(object section, string prefix, List<string> failures)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(section, new ValidationContext(section), results, validateAllProperties: true))
            failures.AddRange(results.Select(r => $"{prefix}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
    }
}
