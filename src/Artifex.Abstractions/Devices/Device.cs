namespace Artifex;

/// <summary>
/// A logical device: a place that owns memory and runs work (an emulated CPU device, a GPU).
/// </summary>
/// <remarks>
/// The counterpart of <c>jax.Device</c> (<c>id</c>, <c>platform</c>, <c>device_kind</c>,
/// <c>process_index</c>). Devices are immutable descriptors created by a <see cref="DeviceProvider"/>;
/// two devices are equal when they have the same platform, id and process index and belong to the
/// same provider instance (two providers in one process never share devices).
/// </remarks>
public sealed class Device : IEquatable<Device>
{
    /// <summary>Creates a descriptor-only device that belongs to no provider (for meshes built in tests or tools).</summary>
    /// <param name="id">The device id, unique within its platform and process.</param>
    /// <param name="platform">The platform name, e.g. <c>"cpu"</c> or <c>"cuda"</c>.</param>
    /// <param name="kind">A human-readable kind, e.g. <c>"cpu"</c> or <c>"NVIDIA H100 80GB HBM3"</c>.</param>
    /// <param name="processIndex">The index of the process that can address the device.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> or <paramref name="processIndex"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="platform"/> or <paramref name="kind"/> is null or empty.</exception>
    public Device(int id, string platform, string kind, int processIndex = 0)
        : this(id, platform, kind, processIndex, provider: null)
    {
    }

    internal Device(int id, string platform, string kind, int processIndex, DeviceProvider? provider)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentException.ThrowIfNullOrEmpty(platform);
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentOutOfRangeException.ThrowIfNegative(processIndex);
        Id = id;
        Platform = platform;
        Kind = kind;
        ProcessIndex = processIndex;
        Provider = provider;
    }

    /// <summary>Gets the device id, unique within its platform and process.</summary>
    public int Id { get; }

    /// <summary>Gets the platform name (<c>"cpu"</c>, <c>"cuda"</c>).</summary>
    public string Platform { get; }

    /// <summary>Gets the device kind (JAX <c>device_kind</c>).</summary>
    public string Kind { get; }

    /// <summary>Gets the index of the process that can address this device.</summary>
    public int ProcessIndex { get; }

    /// <summary>Gets the provider that owns this device, or <see langword="null"/> for a descriptor-only device.</summary>
    public DeviceProvider? Provider { get; }

    /// <inheritdoc/>
    public bool Equals(Device? other) =>
        other is not null
        && Id == other.Id
        && ProcessIndex == other.ProcessIndex
        && string.Equals(Platform, other.Platform, StringComparison.Ordinal)
        && ReferenceEquals(Provider, other.Provider);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Device);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Id, ProcessIndex, StringComparer.Ordinal.GetHashCode(Platform));

    /// <summary>Returns <c>platform:id</c>, e.g. <c>cpu:3</c> (with <c>@process</c> when the process index is not 0).</summary>
    /// <returns>A short name of the device.</returns>
    public override string ToString() =>
        ProcessIndex == 0 ? $"{Platform}:{Id}" : $"{Platform}:{Id}@{ProcessIndex}";

    /// <summary>Compares two devices for equality.</summary>
    /// <param name="left">The first device.</param>
    /// <param name="right">The second device.</param>
    /// <returns><see langword="true"/> when both are null or equal.</returns>
    public static bool operator ==(Device? left, Device? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Compares two devices for inequality.</summary>
    /// <param name="left">The first device.</param>
    /// <param name="right">The second device.</param>
    /// <returns><see langword="true"/> when the devices differ.</returns>
    public static bool operator !=(Device? left, Device? right) => !(left == right);
}
