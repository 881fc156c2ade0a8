namespace Artifex.Cuda.Runtime;

/// <summary>The devices of one axis group in rank order, with their GPU state: what a rendezvous needs to issue NCCL calls.</summary>
internal sealed class AxisGroupMembers
{
    public AxisGroupMembers(string description, Device[] devices, CudaDeviceState[] states)
    {
        Description = description;
        Devices = devices;
        States = states;
    }

    /// <summary>Gets the axis names as messages show them, e.g. <c>'data'</c>.</summary>
    public string Description { get; }

    public Device[] Devices { get; }

    public CudaDeviceState[] States { get; }

    public int Size => Devices.Length;

    public static AxisGroupMembers Of(AxisGroup group, CudaProvider provider)
    {
        var devices = new Device[group.Size];
        var states = new CudaDeviceState[group.Size];
        for (int r = 0; r < group.Size; r++)
        {
            devices[r] = group.Mesh.Devices[group.GetDeviceIndex(r)];
            states[r] = provider.GetState(devices[r]);
        }

        return new AxisGroupMembers(group.ToString(), devices, states);
    }
}
