using System.ComponentModel.DataAnnotations;
using Lookout.Detection.Imaging;

namespace Lookout.Server;

/// <summary>Everything an operator can set, bound from the "Lookout" section (appsettings.json, LOOKOUT__* variables, flags).</summary>
public sealed class LookoutOptions
{
    public const string Section = "Lookout";

    /// <summary>The model served when a request names none.</summary>
    [Required] public string Model { get; set; } = "yolox-nano";

    /// <summary>Folders searched for model files and example images before the user cache.</summary>
    public List<string> AssetDirectories { get; set; } = [];
    public string? CacheDirectory { get; set; }
    public bool AllowDownload { get; set; } = true;

    /// <summary>
    /// Models folders (environment LOOKOUT__MODELDIRECTORIES__0, flag --model-dir): every NAME.onnx and Darknet
    /// NAME.cfg + NAME.weights there is served as the model NAME, and changes are picked up while the service runs.
    /// A folder that does not exist yet is watched for when it appears.
    /// </summary>
    public List<string> ModelDirectories { get; set; } = [];

    /// <summary>Models kept loaded at once; using one more unloads the least recently used idle one.</summary>
    [Range(1, 256)] public int MaxLoadedModels { get; set; } = 4;

    [RegularExpression("^(cpu|cuda)$", ErrorMessage = "ExecutionProvider must be 'cpu' or 'cuda'.")]
    public string ExecutionProvider { get; set; } = "cpu";

    /// <summary>Threads a lone inference may use; 0 = one per core.</summary>
    [Range(0, 256)] public int IntraOpThreads { get; set; }

    /// <summary>Threads for an inference that starts while another runs; 0 = cores ÷ concurrent inferences.</summary>
    [Range(0, 256)] public int ConcurrentIntraOpThreads { get; set; }

    public LimitOptions Limits { get; set; } = new();
    public HttpsOptions Https { get; set; } = new();
    public CorsOptions Cors { get; set; } = new();
    public ArchiveOptions Archive { get; set; } = new();
    public PageOptions Page { get; set; } = new();
    public SecurityOptions Security { get; set; } = new();
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For/Proto/Host headers are believed, besides
    /// loopback. Behind a Kubernetes ingress, name the pod network; never name networks that untrusted clients reach.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    [Range(1, 100)] public int JpegQuality { get; set; } = 80;
    public string? FontPath { get; set; }
}

public sealed class LimitOptions
{
    /// <summary>Largest accepted image upload; larger bodies get 413 before they are read.</summary>
    [Range(1024, 1L << 31)] public long MaxUploadBytes { get; set; } = DecodeLimits.DefaultMaxBytes;

    /// <summary>
    /// Images one POST /api/v1/detect may carry. MaxUploadBytes bounds the whole request, all its images together,
    /// and each image still takes its own place in the inference queue.
    /// </summary>
    [Range(1, 256)] public int MaxImagesPerRequest { get; set; } = 16;

    /// <summary>Largest accepted image by declared pixel count, checked from the header before decoding.</summary>
    [Range(1, 1L << 34)] public long MaxPixels { get; set; } = DecodeLimits.DefaultMaxPixels;

    /// <summary>Inferences running at once; 0 = one per core.</summary>
    [Range(0, 1024)] public int MaxConcurrentInferences { get; set; }

    /// <summary>
    /// Requests allowed to wait for a slot; beyond that the answer is an immediate 503. -1 = sixteen per core: at
    /// ~30 ms an image that queue drains in about half a second, so bursts wait briefly and floods are refused.
    /// </summary>
    [Range(-1, 100_000)] public int QueueLength { get; set; } = -1;

    /// <summary>
    /// Most tiles one request may run besides the whole image (sliced inference, <c>tile=auto</c> or <c>RxC</c>):
    /// each tile is a full model pass, so this keeps one request from taking the server. <c>auto</c> coarsens its
    /// grid to fit; a larger fixed grid is refused with 400.
    /// </summary>
    [Range(1, 256)] public int MaxTilesPerRequest { get; set; } = Lookout.Detection.DetectionOptions.DefaultMaxTiles;

    /// <summary>Per-request deadline, queueing included (the original page gave up after 25 s).</summary>
    [Range(0.1, 3600)] public double RequestTimeoutSeconds { get; set; } = 25;

    public int EffectiveConcurrency => MaxConcurrentInferences > 0 ? MaxConcurrentInferences : Environment.ProcessorCount;
    public int EffectiveQueueLength => QueueLength >= 0 ? QueueLength : 16 * Environment.ProcessorCount;
}

public sealed class HttpsOptions
{
    /// <summary>PEM certificate chain, e.g. Let's Encrypt's fullchain.pem. HTTPS is on when this and KeyPath are set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key, e.g. Let's Encrypt's privkey.pem.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The HTTPS port (the original served HTTPS on 5000).</summary>
    [Range(0, 65535)] public int Port { get; set; } = 5000;

    /// <summary>When set, plain HTTP on this port redirects to HTTPS.</summary>
    [Range(0, 65535)] public int? RedirectHttpPort { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath) && !string.IsNullOrWhiteSpace(KeyPath);
}

public sealed class CorsOptions
{
    /// <summary>Origins allowed to call from a browser; "*" (the default, as flask-cors did) allows any, without credentials.</summary>
    public List<string> AllowedOrigins { get; set; } = ["*"];
}

public sealed class ArchiveOptions
{
    /// <summary>Off by default: no uploaded or annotated image touches the disk.</summary>
    public bool Enabled { get; set; }
    public string Directory { get; set; } = "archive";
    [Range(1, 10_000_000)] public int MaxFiles { get; set; } = 1000;
    [Range(0.001, 36500)] public double MaxAgeDays { get; set; } = 30;
}

public sealed class PageOptions
{
    /// <summary>The page shows photos shrunk to this longest side (the original used 1280); it uploads the original
    /// file unless that is over the upload or pixel limit or a format the server does not read, and only then this shrunk JPEG.</summary>
    [Range(64, 8192)] public int MaxSide { get; set; } = 1280;
}

public sealed class SecurityOptions
{
    /// <summary>When set, every detection route requires this key (X-Api-Key header or DeepStack's api_key field).</summary>
    public string? ApiKey { get; set; }
}

public sealed class RateLimitOptions
{
    /// <summary>Detection requests each client (by address, after trusted proxies) may make per minute; 0 = off (the default).</summary>
    [Range(0, 1_000_000)] public int RequestsPerMinute { get; set; }

    /// <summary>How many requests a client may send at once before the per-minute rate applies.</summary>
    [Range(1, 100_000)] public int Burst { get; set; } = 10;

    public bool Enabled => RequestsPerMinute > 0;
}
