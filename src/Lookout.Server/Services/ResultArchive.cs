using Microsoft.Extensions.Options;

namespace Lookout.Server.Services;

/// <summary>
/// Optional keeping of annotated results, as the original did with every request. Off by default. Names are
/// unique per request (time + random), so concurrent requests never share a file; retention trims by count and age.
/// </summary>
public sealed class ResultArchive(IOptions<LookoutOptions> options, ILogger<ResultArchive> logger)
{
    private readonly ArchiveOptions _options = options.Value.Archive;
    private readonly object _trimLock = new();

    public bool Enabled => _options.Enabled;
    public string DirectoryPath => Path.GetFullPath(_options.Directory);

    public async Task SaveAsync(byte[] annotatedJpeg, CancellationToken cancellationToken)
    {
        if (!_options.Enabled) return;
        Directory.CreateDirectory(DirectoryPath);
        var name = $"{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}-{Guid.NewGuid():N}.jpg";
        var path = Path.Combine(DirectoryPath, name);
        await File.WriteAllBytesAsync(path, annotatedJpeg, cancellationToken).ConfigureAwait(false);
        Trim();
    }

    private void Trim()
    {
        lock (_trimLock)
        {
            try
            {
                var files = new DirectoryInfo(DirectoryPath).GetFiles("*.jpg").OrderByDescending(f => f.Name, StringComparer.Ordinal).ToList();
                var cutoff = DateTime.UtcNow - TimeSpan.FromDays(_options.MaxAgeDays);
                foreach (var (file, index) in files.Select((f, i) => (f, i)))
                    if (index >= _options.MaxFiles || file.LastWriteTimeUtc < cutoff) file.Delete();
            }
            catch (IOException ex)
            {
                logger.LogWarning("Archive clean-up failed: {Reason}", ex.Message);
            }
        }
    }
}
