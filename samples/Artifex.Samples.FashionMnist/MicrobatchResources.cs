namespace Artifex.Samples.FashionMnist;

/// <summary>
/// One device's buffers for reproducible mode: views of each microbatch's rows in the device's training workspace, a
/// microbatch's images, and for each parameter leaf the gradients of every microbatch of the device's batch, one block
/// after another (the contributions of one reproducible mean over the data axis).
/// </summary>
internal sealed class MicrobatchResources : IDisposable
{
    private readonly List<DeviceBuffer> _views = [];

    public MicrobatchResources(DeviceWorkspace workspace, int rows, GlobalArray[] parameterLeaves)
    {
        Device device = workspace.Scores.Device;
        DeviceProvider provider = device.Provider!;
        int microbatches = workspace.Rows / rows;
        Images = provider.Allocate<float>(device, (long)rows * Dataset.Features);
        Hidden = Views(provider, workspace.Hidden, microbatches, rows * MlpParameters.Hidden);
        GradLogits = Views(provider, workspace.GradLogits, microbatches, rows * Dataset.Classes);
        GradHidden = Views(provider, workspace.GradHidden, microbatches, rows * MlpParameters.Hidden);
        Stacked = [.. parameterLeaves.Select(leaf => DeviceArray.Allocate<float>(device, microbatches * leaf.Length))];
        Gradients = [.. Enumerable.Range(0, microbatches).Select(j => parameterLeaves.Select((leaf, l) => View(provider, Stacked[l].Buffer, j, checked((int)leaf.Length))).ToArray())];
    }

    /// <summary>Gets, per microbatch, its gradient buffers in the parameters' tree order: views into <see cref="Stacked"/>.</summary>
    public DeviceBuffer[][] Gradients { get; }

    /// <summary>Gets, per parameter leaf, every microbatch's gradient of that leaf, one block per microbatch.</summary>
    public DeviceArray<float>[] Stacked { get; }

    /// <summary>Gets one microbatch's images (copied from the device's batch: the layer-1 product reads them transposed).</summary>
    public DeviceBuffer Images { get; }

    /// <summary>Gets each microbatch's rows of the workspace's hidden activations.</summary>
    public DeviceBuffer[] Hidden { get; }

    /// <summary>Gets each microbatch's rows of the workspace's loss gradient.</summary>
    public DeviceBuffer[] GradLogits { get; }

    /// <summary>Gets each microbatch's rows of the workspace's hidden-layer gradient.</summary>
    public DeviceBuffer[] GradHidden { get; }

    public void Dispose()
    {
        foreach (DeviceBuffer view in _views)
        {
            view.Dispose();
        }

        foreach (DeviceArray<float> stacked in Stacked)
        {
            stacked.Dispose();
        }

        Images.Dispose();
    }

    private DeviceBuffer[] Views(DeviceProvider provider, DeviceBuffer buffer, int count, int length) =>
        [.. Enumerable.Range(0, count).Select(j => View(provider, buffer, j, length))];

    private DeviceBuffer View(DeviceProvider provider, DeviceBuffer buffer, int index, int length)
    {
        DeviceBuffer view = provider.Slice(buffer, (long)index * length, length);
        _views.Add(view);
        return view;
    }
}
