using System.Collections.Immutable;

namespace Artifex;

/// <summary>The whole array on one device (JAX <c>SingleDeviceSharding</c>).</summary>
public sealed class SingleDeviceSharding : Sharding, IEquatable<SingleDeviceSharding>
{
    /// <summary>Creates the sharding.</summary>
    /// <param name="device">The device that holds the array.</param>
    /// <exception cref="ArgumentNullException"><paramref name="device"/> is null.</exception>
    public SingleDeviceSharding(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        Devices = [device];
    }

    /// <summary>Gets the device.</summary>
    public Device Device { get; }

    /// <inheritdoc/>
    public override ImmutableArray<Device> Devices { get; }

    /// <inheritdoc/>
    public override bool IsFullyReplicated => true;

    /// <inheritdoc/>
    public bool Equals(SingleDeviceSharding? other) => other is not null && Device == other.Device;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SingleDeviceSharding);

    /// <inheritdoc/>
    public override int GetHashCode() => Device.GetHashCode();

    /// <summary>Returns JAX's form, e.g. <c>SingleDeviceSharding(device=cpu:0)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"SingleDeviceSharding(device={Device})";

    /// <inheritdoc/>
    protected override string? GetValidationErrorCore(ReadOnlySpan<long> globalShape) => null;

    /// <inheritdoc/>
    protected override IReadOnlyList<ShardPlacement> GetShardPlacementsCore(ReadOnlySpan<long> globalShape)
    {
        var index = ImmutableArray.CreateBuilder<DimensionSlice>(globalShape.Length);
        foreach (long length in globalShape)
        {
            index.Add(new DimensionSlice(0, length));
        }

        return [CreatePlacement(Device, index.MoveToImmutable(), 0)];
    }
}
