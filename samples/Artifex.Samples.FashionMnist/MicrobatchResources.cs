namespace Artifex.Samples.FashionMnist;

/// <summary>One device's buffers for reproducible mode: a microbatch's rows and labels, its activations, and one reproducible-sum state per parameter leaf.</summary>
internal sealed class MicrobatchResources : IDisposable
{
    public MicrobatchResources(Device device, int rows, GlobalArray[] parameterLeaves)
    {
        DeviceProvider provider = device.Provider!;
        Workspace = new DeviceWorkspace(device, rows);
        Images = provider.Allocate<float>(device, (long)rows * Dataset.Features);
        Labels = provider.Allocate<int>(device, rows);
        States = [.. parameterLeaves.Select(leaf => ReproducibleSumState.Create(device, leaf.Length))];
        Gradients = [.. Workspace.Gradients.Leaves().Select(static leaf => leaf.Buffer)];
    }

    public DeviceWorkspace Workspace { get; }

    /// <summary>Gets the microbatch's gradient buffers in the parameters' tree order.</summary>
    public DeviceBuffer[] Gradients { get; }

    public DeviceBuffer Images { get; }

    public DeviceBuffer Labels { get; }

    public ReproducibleSumState[] States { get; }

    public void Dispose()
    {
        Workspace.Dispose();
        Images.Dispose();
        Labels.Dispose();
        foreach (ReproducibleSumState state in States)
        {
            state.Dispose();
        }
    }
}
