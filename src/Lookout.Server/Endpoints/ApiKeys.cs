using System.Security.Cryptography;
using System.Text;

namespace Lookout.Server.Endpoints;

/// <summary>The optional API key: off when none is configured; compared in constant time when on.</summary>
public static class ApiKeys
{
    public static bool Matches(string? configured, params string?[] offered)
    {
        if (string.IsNullOrEmpty(configured)) return true;
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(configured));
        bool any = false;
        foreach (var candidate in offered)
        {
            if (string.IsNullOrEmpty(candidate)) continue;
            // Hashing first makes the comparison length-independent as well as time-constant.
            any |= CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(candidate)));
        }
        return any;
    }
}
