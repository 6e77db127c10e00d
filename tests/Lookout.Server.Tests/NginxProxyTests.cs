using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Lookout.Detection.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Lookout.Server.Tests;

/// <summary>
/// The shipped nginx config (deploy/nginx/lookout.conf, filled with loopback ports and a self-signed certificate)
/// in front of a real Lookout server: HTTPS through the proxy works, and Lookout sees the client's scheme and address.
/// </summary>
public sealed class NginxProxyTests
{
    private const string Nginx = "/usr/sbin/nginx";

    // The test client connects from this loopback address, so the address nginx saw (127.0.0.2) is distinguishable
    // from the address Lookout's connection comes from (nginx, 127.0.0.1).
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.2");
    private const string SpoofedClient = "203.0.113.7";

    [Fact]
    public async Task Https_through_nginx_reaches_Lookout_with_the_client_scheme_and_address()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await LookoutTestServer.StartAsync(configure: b =>
        {
            b.Logging.AddProvider(logs);
            b.Logging.AddFilter<CapturingLoggerProvider>(typeof(RequestLogging).FullName, LogLevel.Information);
        });
        await using var nginx = await NginxProcess.StartAsync(server.BaseAddress.Port);

        using var client = nginx.CreateClient(ClientAddress);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/detect")
        {
            Content = LookoutTestServer.Form("image", TestAssets.Bytes("dog.jpg")),
        };
        request.Headers.Add("X-Forwarded-For", SpoofedClient);
        using var response = await client.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} through nginx: {body}\n{nginx.ErrorLog()}");
        var labels = JsonDocument.Parse(body).RootElement.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("label").GetString()).ToArray();
        Assert.Contains("dog", labels);

        // Both logs are written as the response completes, possibly just after the client has it.
        var line = await Eventually(() => logs.Lines.SingleOrDefault(l => l.Values.TryGetValue("Path", out var p) && "/api/v1/detect".Equals(p)));
        // X-Forwarded-Proto from nginx: the client spoke HTTPS although Lookout itself served plain HTTP.
        Assert.Equal("https", line.Values["Scheme"]);
        // nginx sent "X-Forwarded-For: 203.0.113.7, 127.0.0.2". Lookout trusts its loopback proxy for one hop only, so
        // it takes the right-most entry, the address nginx saw, and not the client's own claim (nor nginx's 127.0.0.1).
        Assert.Equal(ClientAddress.ToString(), line.Values["RemoteIp"]);
        Assert.Contains($"scheme=https client={ClientAddress}", line.Message);

        // nginx's own access log records what it forwarded: the chain with the spoofed entry first.
        var access = await Eventually(() => nginx.AccessLog() is { Length: > 0 } a ? a : null);
        Assert.Contains($"{ClientAddress} \"POST /api/v1/detect HTTP/1.1\" 200 xff=\"{SpoofedClient}\"", access);
    }

    [Fact]
    public async Task Plain_http_on_the_proxy_redirects_to_https()
    {
        // The redirect is nginx's own answer: no Lookout behind it is needed.
        await using var nginx = await NginxProcess.StartAsync(Loopback.FreePort());

        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var response = await http.GetAsync($"http://127.0.0.1:{nginx.HttpPort}/status_check?x=1");

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal($"https://127.0.0.1/status_check?x=1", response.Headers.Location!.ToString());
    }

    /// <summary>nginx started by the test: no daemon, everything (config, pid, logs, temp files) in a temp folder.</summary>
    private sealed class NginxProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly DirectoryInfo _dir;
        private readonly X509Certificate2 _certificate;
        private readonly StringBuilder _output = new();

        private NginxProcess(Process process, DirectoryInfo dir, X509Certificate2 certificate, int httpsPort, int httpPort)
        {
            _process = process;
            _dir = dir;
            _certificate = certificate;
            HttpsPort = httpsPort;
            HttpPort = httpPort;
        }

        public int HttpsPort { get; }
        public int HttpPort { get; }

        public static async Task<NginxProcess> StartAsync(int lookoutPort)
        {
            if (!File.Exists(Nginx))
                Assert.Fail($"{Nginx} is missing: the reverse-proxy test needs Debian's nginx (apt-get install -y nginx); .ci/run installs it.");

            var dir = Directory.CreateTempSubdirectory("lookout-nginx-");
            var certificate = CreateCertificate();
            var certPath = Path.Combine(dir.FullName, "fullchain.pem");
            var keyPath = Path.Combine(dir.FullName, "privkey.pem");
            await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
            using (var key = certificate.GetECDsaPrivateKey()!) await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());

            int httpsPort = Loopback.FreePort(), httpPort = Loopback.FreePort();
            var site = FillTemplate(await File.ReadAllTextAsync(TemplatePath()), new Dictionary<string, string>
            {
                ["LOOKOUT_DOMAIN"] = "localhost 127.0.0.1",
                ["LOOKOUT_UPSTREAM"] = $"127.0.0.1:{lookoutPort}",
                ["LOOKOUT_HTTPS_LISTEN"] = $"127.0.0.1:{httpsPort}",
                ["LOOKOUT_HTTP_LISTEN"] = $"127.0.0.1:{httpPort}",
                ["LOOKOUT_CERT"] = certPath,
                ["LOOKOUT_KEY"] = keyPath,
            });
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "lookout.conf"), site);
            var tmp = dir.FullName;
            // As root, nginx would hand its workers to "nobody", who cannot enter the 0700 temp folder.
            var user = Environment.UserName == "root" ? "user root;" : "";
            await File.WriteAllTextAsync(Path.Combine(tmp, "nginx.conf"), $$"""
                {{user}}
                worker_processes 1;
                pid {{tmp}}/nginx.pid;
                error_log {{tmp}}/error.log info;
                events { worker_connections 64; }
                http {
                    log_format lookout '$remote_addr "$request" $status xff="$http_x_forwarded_for"';
                    access_log {{tmp}}/access.log lookout;
                    client_body_temp_path {{tmp}}/client_body;
                    proxy_temp_path {{tmp}}/proxy;
                    fastcgi_temp_path {{tmp}}/fastcgi;
                    uwsgi_temp_path {{tmp}}/uwsgi;
                    scgi_temp_path {{tmp}}/scgi;
                    include {{tmp}}/lookout.conf;
                }
                """);

            var psi = new ProcessStartInfo(Nginx) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-e", Path.Combine(tmp, "error.log"), "-p", tmp, "-c", Path.Combine(tmp, "nginx.conf"), "-g", "daemon off;" })
                psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            var nginx = new NginxProcess(process, dir, certificate, httpsPort, httpPort);
            try
            {
                process.OutputDataReceived += (_, e) => { lock (nginx._output) nginx._output.AppendLine(e.Data); };
                process.ErrorDataReceived += (_, e) => { lock (nginx._output) nginx._output.AppendLine(e.Data); };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                await nginx.WaitForPortAsync(httpsPort);
                await nginx.WaitForPortAsync(httpPort);
                return nginx;
            }
            catch
            {
                await nginx.DisposeAsync();
                throw;
            }
        }

        /// <summary>An HTTPS client that connects from <paramref name="from"/> and trusts exactly this nginx's certificate.</summary>
        public HttpClient CreateClient(IPAddress from)
        {
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (context, ct) =>
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        socket.Bind(new IPEndPoint(from, 0));
                        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, HttpsPort), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            };
            var thumbprint = _certificate.GetCertHashString(HashAlgorithmName.SHA256);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) =>
                cert is not null && cert.GetCertHashString(HashAlgorithmName.SHA256) == thumbprint;
            return new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{HttpsPort}"), Timeout = TimeSpan.FromSeconds(60) };
        }

        public string ErrorLog() => ReadShared(Path.Combine(_dir.FullName, "error.log"));
        public string AccessLog() => ReadShared(Path.Combine(_dir.FullName, "access.log"));

        private async Task WaitForPortAsync(int port)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline)
            {
                if (_process.HasExited)
                    Assert.Fail($"nginx exited with {_process.ExitCode}: {_output}\n{ErrorLog()}");
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException)
                {
                    await Task.Delay(50);
                }
            }
            Assert.Fail($"nginx did not listen on 127.0.0.1:{port} within 20 s: {_output}\n{ErrorLog()}");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                // SIGTERM: the master stops its workers, then exits. A SIGKILLed master would orphan the workers,
                // which hold the output pipes open (and the ports).
                _ = SendSignal(_process.Id, SigTerm);
                if (!_process.WaitForExit(10_000)) _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
            _certificate.Dispose();
            try { _dir.Delete(true); } catch (IOException) { }
        }

        private const int SigTerm = 15;

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int SendSignal(int pid, int signal);

        private static string ReadShared(string path)
        {
            if (!File.Exists(path)) return "";
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(stream).ReadToEnd();
        }
    }

    private static async Task<T> Eventually<T>(Func<T?> probe) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            if (probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) Assert.Fail("Gave up waiting 5 s for a log line.");
            await Task.Delay(20);
        }
    }

    /// <summary>Fills the ${NAME} placeholders and checks none is left (nginx's own $variables have no braces).</summary>
    internal static string FillTemplate(string template, IReadOnlyDictionary<string, string> values)
    {
        foreach (var (name, value) in values) template = template.Replace("${" + name + "}", value);
        var body = string.Join('\n', template.Split('\n').Where(l => !l.TrimStart().StartsWith('#')));
        Assert.False(body.Contains("${"), "A placeholder in deploy/nginx/lookout.conf was not filled: " + body);
        return template;
    }

    internal static string TemplatePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "deploy", "nginx", "lookout.conf");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("deploy/nginx/lookout.conf was not found above " + AppContext.BaseDirectory);
    }


    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}
