using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Artifex.Runtime;

/// <summary>
/// One participant's side of a collective: what it asks for and its buffers. Every participant of a round must agree on
/// everything but the buffers; the <see cref="Rendezvous"/> checks that before a <see cref="CollectiveExecutor"/> runs.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public readonly record struct CollectiveCall
{
    private readonly long _windowIndexPlusOne;

    /// <summary>Initializes a call with buffers.</summary>
    /// <param name="kind">The collective.</param>
    /// <param name="input">The participant's input block.</param>
    /// <param name="output">The participant's output block (may be the input).</param>
    /// <param name="op">The reduction (all-reduce only; <see cref="ReduceOp.Sum"/> otherwise).</param>
    /// <param name="root">The root rank (broadcast only; 0 otherwise).</param>
    /// <param name="reproducible">Whether a reduction must be reproducible (<see cref="Determinism.Reproducible"/>).</param>
    public CollectiveCall(CollectiveKind kind, DeviceArray input, DeviceArray output, ReduceOp op = ReduceOp.Sum, int root = 0, bool reproducible = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Kind = kind;
        ElementType = input.ElementType;
        Input = input.Buffer;
        Output = output.Buffer;
        InputShape = input.Shape;
        OutputShape = output.Shape;
        Op = op;
        Root = root;
        Reproducible = reproducible;
    }

    /// <summary>Gets a barrier's call: no buffers.</summary>
    public static CollectiveCall Barrier => new() { Kind = CollectiveKind.Barrier };

    /// <summary>Gets the collective.</summary>
    public CollectiveKind Kind { get; init; }

    /// <summary>Gets the element type, or <see langword="null"/> for a barrier.</summary>
    public Type? ElementType { get; init; }

    /// <summary>Gets the input buffer.</summary>
    public DeviceBuffer? Input { get; init; }

    /// <summary>Gets the output buffer.</summary>
    public DeviceBuffer? Output { get; init; }

    /// <summary>Gets the shape of the input block.</summary>
    public ImmutableArray<long> InputShape { get; init; }

    /// <summary>Gets the shape of the output block.</summary>
    public ImmutableArray<long> OutputShape { get; init; }

    /// <summary>Gets the reduction.</summary>
    public ReduceOp Op { get; init; }

    /// <summary>Gets the root rank of a broadcast.</summary>
    public int Root { get; init; }

    /// <summary>Gets whether the reduction is reproducible (its bits depend only on the multiset of inputs).</summary>
    public bool Reproducible { get; init; }

    /// <summary>
    /// Gets, for a reproducible reduction, the first input element outside the summation window, or −1 (the default):
    /// the rendezvous then fails every participant alike, naming this one's rank, index and value.
    /// </summary>
    public long WindowIndex
    {
        get => _windowIndexPlusOne - 1;
        init => _windowIndexPlusOne = value + 1;
    }

    /// <summary>Gets the value at <see cref="WindowIndex"/>, for the message.</summary>
    public double WindowValue { get; init; }

    /// <summary>Gets the input element count.</summary>
    public long InputLength => Input?.Length ?? 0;

    /// <summary>Gets the output element count.</summary>
    public long OutputLength => Output?.Length ?? 0;

    /// <summary>Gets the size of one element in bytes (0 for a barrier).</summary>
    public int ElementSize => Input?.ElementSize ?? 0;

    /// <summary>Gets JAX's name of a collective, as messages show it.</summary>
    /// <param name="kind">The collective.</param>
    /// <returns>E.g. <c>all_reduce</c>.</returns>
    public static string Name(CollectiveKind kind) => kind switch
    {
        CollectiveKind.AllReduce => "all_reduce",
        CollectiveKind.AllGather => "all_gather",
        CollectiveKind.ReduceScatter => "psum_scatter",
        CollectiveKind.Broadcast => "broadcast",
        _ => "barrier",
    };

    /// <summary>Gets whether two calls ask for the same collective: kind, element type, shapes, op, root and determinism.</summary>
    /// <param name="other">Another participant's call.</param>
    /// <returns>True when they agree.</returns>
    public bool Agrees(in CollectiveCall other) =>
        Kind == other.Kind && ElementType == other.ElementType && Op == other.Op && Root == other.Root
        && Reproducible == other.Reproducible && SameShape(InputShape, other.InputShape) && SameShape(OutputShape, other.OutputShape);

    private static bool SameShape(ImmutableArray<long> a, ImmutableArray<long> b) =>
        a.IsDefault || b.IsDefault ? a.IsDefault == b.IsDefault : a.AsSpan().SequenceEqual(b.AsSpan());
}
