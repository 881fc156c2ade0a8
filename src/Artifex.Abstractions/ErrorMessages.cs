namespace Artifex;

/// <summary>
/// Message texts. JAX's and artifex's texts are kept verbatim where the reference spec quotes them,
/// because users and tests match on them.
/// </summary>
internal static class ErrorMessages
{
    public static string NotEnoughDevices(System.Numerics.BigInteger required, int available) =>
        $"Not enough devices: mesh requires {required} devices but only {available} available.";

    public static string ResourceAxisNotFound(string axis, PartitionSpec spec, Mesh mesh) =>
        $"Resource axis: {axis} of {spec} is not found in mesh: {Python.Tuple(mesh.AxisNames.Select(Python.Str))}.";

    public static string DuplicateSpecAxis(PartitionSpec spec, string axis) =>
        $"A single NamedSharding spec specification can map every mesh axis to at most one positional dimension, but {spec} has duplicate entries for `{axis}`";

    public static string RankTooSmall(Sharding sharding, int specLength, int rank) =>
        $"Sharding {sharding} is only valid for values of rank at least {specLength}, but was applied to a value of rank {rank}."
        + (rank == 0 ? " For scalars the PartitionSpec should be P()" : string.Empty);

    public static string NotDivisible(Sharding sharding, int dimension, long splitCount, long size, ReadOnlySpan<long> shape) =>
        $"One of device_put args was given the sharding of {sharding}, which implies that the global size of its dimension {dimension} should be divisible by {splitCount}, but it is equal to {size} (full shape: {Python.Shape(shape)})";

    public static string AtLeaf(string message, TreePath path) =>
        path.IsRoot ? message : $"{message} (leaf: {path})";

    public static string UnboundAxisName(string name, IEnumerable<string> bound) =>
        $"unbound axis name: {name}. The following axis names (e.g. defined by pmap) are available to collective operations: {Python.List(bound.Select(Python.Str))}";

    public static string OutsideReproducibleWindow(string what, long index, double value) => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"{what}[{index}] is {value:R}, outside the window of reproducible summation ({ReproducibleSum.Version}: |x| ≤ 2^30, finite). Nothing was changed.");

    public static string MeanOfIntegers(Type elementType) =>
        $"The mean of {elementType.Name} values is not an {elementType.Name} (JAX's pmean returns floats): reduce with Sum and divide, or convert to floating point first.";
}
