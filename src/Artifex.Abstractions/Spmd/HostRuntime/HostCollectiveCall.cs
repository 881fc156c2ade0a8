namespace Artifex.HostRuntime;

/// <summary>One participant's side of a collective: what it asks for and its buffers.</summary>
internal readonly record struct HostCollectiveCall(
    HostCollectiveKind Kind,
    Type? ElementType,
    long InputLength,
    long OutputLength,
    ReduceOp Op,
    int Root,
    DeviceBuffer? Input,
    DeviceBuffer? Output)
{
    /// <summary>A barrier's call: no buffers.</summary>
    public static HostCollectiveCall Barrier => new(HostCollectiveKind.Barrier, null, 0, 0, ReduceOp.Sum, 0, null, null);

    /// <summary>Gets JAX's name of a collective, for messages.</summary>
    public static string Name(HostCollectiveKind kind) => kind switch
    {
        HostCollectiveKind.AllReduce => "all_reduce",
        HostCollectiveKind.AllGather => "all_gather",
        HostCollectiveKind.ReduceScatter => "psum_scatter",
        HostCollectiveKind.Broadcast => "broadcast",
        _ => "barrier",
    };

    /// <summary>Gets whether two calls ask for the same collective (shapes, type, op, root).</summary>
    public bool Matches(in HostCollectiveCall other) =>
        Kind == other.Kind && ElementType == other.ElementType && InputLength == other.InputLength
        && OutputLength == other.OutputLength && Op == other.Op && Root == other.Root;
}
