using System.Net;
using System.Net.Sockets;

namespace Artifex.Cuda.Tests.Distributed;

/// <summary>
/// Loopback ports for tests that start a store on a port they choose. They come from below the kernel's ephemeral range:
/// a port the OS hands out to any outgoing connection of a test running beside this one could otherwise take the chosen
/// port between the check and the store's bind.
/// </summary>
internal static class LoopbackPorts
{
    /// <summary>Gets a port that is free now (the caller binds it a moment later).</summary>
    public static int Free()
    {
        using TcpListener listener = HoldWithFreeNeighbour(out int port);
        listener.Stop();
        return port;
    }

    /// <summary>Holds a port P (as torchrun's agent holds MASTER_PORT) whose neighbour P + 1 is free.</summary>
    public static TcpListener HoldWithFreeNeighbour(out int port)
    {
        var random = new Random();
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            int candidate = random.Next(20_000, 30_000);
            var held = new TcpListener(IPAddress.Loopback, candidate);
            try
            {
                held.Start();
                using var next = new TcpListener(IPAddress.Loopback, candidate + 1);
                next.Start();
                next.Stop();
                port = candidate;
                return held;
            }
            catch (SocketException)
            {
                // Taken: try another pair.
                held.Dispose();
            }
        }

        throw new InvalidOperationException("No free pair of neighbouring loopback ports between 20000 and 30000.");
    }
}
