using System.Globalization;

namespace Artifex.Mpi.Worker;

/// <summary>
/// Axis sets whose groups are partly inside one process and partly across processes (3 devices per process on a 3 × 2
/// mesh), and a mesh whose devices are in reverse order: the communicators must be created in the same order on every
/// process, and results must not depend on how processes are laid out along an axis.
/// </summary>
internal static class MixedGroupChecks
{
    private const int Local = 3;

    public static int Run()
    {
        using var provider = new MpiProvider(Local);
        int n = provider.Devices.Count;
        var failures = new List<string>();
        var mesh = new Mesh(provider.Devices, ("a", n / 2), ("b", 2));
        var sums = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> value = DeviceArray.Allocate<float>(context.Device, 2);
            var seen = new List<float>();
            for (int round = 0; round < 3; round++)
            {
                foreach (string axis in (string[])["b", "a"])
                {
                    value.CopyFrom([context.DeviceIndex + 1, (context.DeviceIndex + 1) * 10]);
                    context.AllReduce(value, value, ReduceOp.Sum, context.GetAxisGroup(axis));
                    seen.AddRange(value.ToArray());
                }
            }

            sums[context.DeviceIndex] = [.. seen];
        });

        foreach (Device device in provider.LocalDevices)
        {
            int d = device.Id, a = d / 2, b = d % 2;
            float overB = (2 * a) + 1 + (2 * a) + 2;
            float overA = Enumerable.Range(0, n / 2).Sum(k => (2f * k) + b + 1);
            float[] expected = [.. Enumerable.Range(0, 3).SelectMany(_ => (float[])[overB, overB * 10, overA, overA * 10])];
            if (!sums[d].SequenceEqual(expected))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"{device}: [{string.Join(", ", sums[d])}], expected [{string.Join(", ", expected)}]"));
            }
        }

        CheckReversed(provider, failures);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {provider.ProcessIndex}/{provider.ProcessCount} {(failures.Count == 0 ? "MIXED OK" : "FAILED: " + string.Join("; ", failures))}"));
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>A data axis over the devices in reverse order: all-reduce and broadcast are right whatever the process order.</summary>
    private static void CheckReversed(MpiProvider provider, List<string> failures)
    {
        int n = provider.Devices.Count;
        var mesh = new Mesh([.. provider.Devices.Reverse()], ("data", n));
        var results = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> value = DeviceArray.Allocate<float>(context.Device, 1);
            using DeviceArray<float> root = DeviceArray.Allocate<float>(context.Device, 1);
            value.CopyFrom([context.Device.Id + 1]);
            context.AllReduce(value, value, ReduceOp.Sum, context.GetAxisGroup("data"));
            root.CopyFrom([context.Device.Id + 100]);
            context.Broadcast(root, root, 1, context.GetAxisGroup("data"));
            results[context.DeviceIndex] = [value.ToArray()[0], root.ToArray()[0]];
        });

        float total = n * (n + 1) / 2f;
        float rootValue = mesh.Devices[1].Id + 100;
        foreach (Device device in provider.LocalDevices)
        {
            float[] r = results[mesh.IndexOf(device)];
            if (r[0] != total || r[1] != rootValue)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"reversed mesh on {device}: sum {r[0]} (expected {total}), broadcast {r[1]} (expected {rootValue})"));
            }
        }
    }
}
