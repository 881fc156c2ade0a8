namespace Artifex.Samples.FashionMnist;

/// <summary>
/// One device's buffers for reproducible mode: a microbatch's rows, labels and activations, and for each parameter leaf
/// the gradients of every microbatch of the device's batch, one block after another (the contributions of one
/// reproducible mean over the data axis).
/// </summary>
internal sealed class MicrobatchResources : IDisposable
{
    public MicrobatchResources(Device device, int rows, int microbatches, GlobalArray[] parameterLeaves)
    {
        DeviceProvider provider = device.Provider!;
        Workspace = new DeviceWorkspace(device, rows);
        Images = provider.Allocate<float>(device, (long)rows * Dataset.Features);
        Labels = provider.Allocate<int>(device, rows);
        Stacked = [.. parameterLeaves.Select(leaf => DeviceArray.Allocate<float>(device, microbatches * leaf.Length))];
        Gradients = [.. Enumerable.Range(0, microbatches).Select(j => parameterLeaves.Select((leaf, l) => provider.Slice(Stacked[l].Buffer, j * leaf.Length, leaf.Length)).ToArray())];
    }

    public DeviceWorkspace Workspace { get; }

    /// <summary>Gets, per microbatch, its gradient buffers in the parameters' tree order: views into <see cref="Stacked"/>.</summary>
    public DeviceBuffer[][] Gradients { get; }

    /// <summary>Gets, per parameter leaf, every microbatch's gradient of that leaf, one block per microbatch.</summary>
    public DeviceArray<float>[] Stacked { get; }

    public DeviceBuffer Images { get; }

    public DeviceBuffer Labels { get; }

    public void Dispose()
    {
        foreach (DeviceBuffer view in Gradients.SelectMany(static g => g))
        {
            view.Dispose();
        }

        foreach (DeviceArray<float> stacked in Stacked)
        {
            stacked.Dispose();
        }

        Workspace.Dispose();
        Images.Dispose();
        Labels.Dispose();
    }
}
