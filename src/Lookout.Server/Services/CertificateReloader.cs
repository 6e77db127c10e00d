using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace Lookout.Server.Services;

/// <summary>
/// Serves the PEM certificate and key named in the options, and picks up renewed files (certbot writes new ones
/// every ~60 days) at the next TLS handshake, without a restart. A half-written renewal keeps the old certificate.
/// </summary>
public sealed class CertificateReloader
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);
    private readonly string _certPath;
    private readonly string _keyPath;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private X509Certificate2 _current;
    private (DateTime Cert, DateTime Key, long CertLength, long KeyLength) _stamp;
    private long _nextCheck;

    public CertificateReloader(IOptions<LookoutOptions> options, ILogger<CertificateReloader> logger)
    {
        var https = options.Value.Https;
        _certPath = https.CertificatePath ?? throw new InvalidOperationException("Https:CertificatePath is not set.");
        _keyPath = https.KeyPath ?? throw new InvalidOperationException("Https:KeyPath is not set.");
        _logger = logger;
        _stamp = Stamp();
        _current = Load();
        _logger.LogInformation("HTTPS certificate {Subject}, valid until {NotAfter:u}", _current.Subject, _current.NotAfter);
    }

    public X509Certificate2 Current
    {
        get
        {
            var now = Environment.TickCount64;
            if (now < Volatile.Read(ref _nextCheck)) return _current;
            lock (_lock)
            {
                _nextCheck = now + (long)CheckInterval.TotalMilliseconds;
                var stamp = Stamp();
                if (stamp == _stamp) return _current;
                try
                {
                    var renewed = Load();
                    _current = renewed;
                    _stamp = stamp;
                    _logger.LogInformation("Reloaded renewed HTTPS certificate {Subject}, valid until {NotAfter:u}", renewed.Subject, renewed.NotAfter);
                }
                catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
                {
                    // certbot may be half-way through writing: keep serving the old one and look again shortly.
                    _logger.LogWarning("Certificate files changed but could not be loaded yet ({Reason}); keeping the current certificate.", ex.Message);
                }
                return _current;
            }
        }
    }

    private (DateTime, DateTime, long, long) Stamp()
    {
        var cert = new FileInfo(_certPath);
        var key = new FileInfo(_keyPath);
        return (cert.Exists ? cert.LastWriteTimeUtc : default, key.Exists ? key.LastWriteTimeUtc : default,
                cert.Exists ? cert.Length : -1, key.Exists ? key.Length : -1);
    }

    private X509Certificate2 Load()
    {
        using var pem = X509Certificate2.CreateFromPemFile(_certPath, _keyPath);
        // Re-import through PKCS#12 so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
