namespace Artifex.Samples.FashionMnist;

/// <summary>One device's activations and gradients for a fixed local batch, allocated once and reused every step.</summary>
internal sealed class DeviceWorkspace : IDisposable
{
    private readonly List<DeviceBuffer> _owned = [];

    public DeviceWorkspace(Device device, int rows)
    {
        DeviceProvider provider = device.Provider!;
        Rows = rows;
        Hidden = Allocate(provider, device, rows * MlpParameters.Hidden);
        Logits = Allocate(provider, device, rows * Dataset.Classes);
        Probabilities = Allocate(provider, device, rows * Dataset.Classes);
        Losses = Allocate(provider, device, rows);
        GradLogits = Allocate(provider, device, rows * Dataset.Classes);
        GradHidden = Allocate(provider, device, rows * MlpParameters.Hidden);
        GradKernel1 = Allocate(provider, device, Dataset.Features * MlpParameters.Hidden);
        GradBias1 = Allocate(provider, device, MlpParameters.Hidden);
        GradKernel2 = Allocate(provider, device, MlpParameters.Hidden * Dataset.Classes);
        GradBias2 = Allocate(provider, device, Dataset.Classes);

        // Views in the parameters' tree order, so AllReduceGradients sees the same structure as the parameters.
        Gradients = Tree.Dict<DeviceArray>(
            ("dense1", Tree.Dict<DeviceArray>(("bias", DeviceArray.View<float>(GradBias1, MlpParameters.Hidden)), ("kernel", DeviceArray.View<float>(GradKernel1, Dataset.Features, MlpParameters.Hidden)))),
            ("dense2", Tree.Dict<DeviceArray>(("bias", DeviceArray.View<float>(GradBias2, Dataset.Classes)), ("kernel", DeviceArray.View<float>(GradKernel2, MlpParameters.Hidden, Dataset.Classes)))));
        Scores = DeviceArray.Allocate<double>(device, 2);
        HostProbabilities = new float[rows * Dataset.Classes];
        HostLosses = new float[rows];
        HostLabels = new int[rows];
    }

    public int Rows { get; }

    /// <summary>Gets the device's loss sum and hit count, for summing over processes.</summary>
    public DeviceArray<double> Scores { get; }

    public DeviceBuffer Hidden { get; }

    public DeviceBuffer Logits { get; }

    public DeviceBuffer Probabilities { get; }

    public DeviceBuffer Losses { get; }

    public DeviceBuffer GradLogits { get; }

    public DeviceBuffer GradHidden { get; }

    public DeviceBuffer GradKernel1 { get; }

    public DeviceBuffer GradBias1 { get; }

    public DeviceBuffer GradKernel2 { get; }

    public DeviceBuffer GradBias2 { get; }

    public Tree<DeviceArray> Gradients { get; }

    public float[] HostProbabilities { get; }

    public float[] HostLosses { get; }

    public int[] HostLabels { get; }

    public void Dispose()
    {
        Gradients.DisposeLeaves();
        Scores.Dispose();
        foreach (DeviceBuffer buffer in _owned)
        {
            buffer.Dispose();
        }

        _owned.Clear();
    }

    private DeviceBuffer Allocate(DeviceProvider provider, Device device, int length)
    {
        DeviceBuffer buffer = provider.Allocate<float>(device, length);
        _owned.Add(buffer);
        return buffer;
    }
}
