namespace Artifex.Distributed;

/// <summary>
/// One bucket of a <see cref="GradientReducer"/>: consecutive leaves (in reverse registration order) packed in one flat
/// buffer that a single collective reduces, and the views of each leaf's slot in it.
/// </summary>
internal sealed class GradientBucket : IDisposable
{
    public GradientBucket(int index, int[] leaves, DeviceArray flat, DeviceArray[] slots, DeviceArray? compressed)
    {
        Index = index;
        Leaves = leaves;
        Flat = flat;
        Slots = slots;
        Compressed = compressed;
    }

    public int Index { get; }

    /// <summary>Gets the leaf indices, in slot order.</summary>
    public int[] Leaves { get; }

    public DeviceArray Flat { get; }

    /// <summary>Gets each leaf's slot in <see cref="Flat"/>, shaped as the leaf.</summary>
    public DeviceArray[] Slots { get; }

    /// <summary>Gets the Half buffer the bucket travels in, or <see langword="null"/> without compression.</summary>
    public DeviceArray? Compressed { get; }

    /// <summary>Gets or sets how many of its leaves are not ready yet in this micro-step.</summary>
    public int Pending { get; set; }

    public bool Launched { get; set; }

    public CollectiveRequest Request { get; set; }

    public long Started { get; set; }

    /// <summary>Gets the bytes one all-reduce of the bucket sends.</summary>
    public long Bytes => (Compressed ?? Flat).Buffer.SizeInBytes;

    public void Dispose()
    {
        foreach (DeviceArray slot in Slots)
        {
            slot.Dispose();
        }

        Compressed?.Dispose();
        Flat.Dispose();
    }
}
