using System.Net;
using System.Net.Sockets;

namespace Lookout.Detection.Tests.Support;

/// <summary>Loopback helpers for tests that run real servers (never any address but 127.0.0.1).</summary>
public static class Loopback
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago, for servers that must be told their port up front.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
