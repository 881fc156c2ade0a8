using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>Tree operations a training step does on a ResNet-50-like parameter tree (161 leaves): map, flatten, rebuild, paths.</summary>
[MemoryDiagnoser]
public class TreeBenchmarks
{
    private Tree<int> _tree = null!;
    private TreeDef _structure = null!;
    private int[] _leaves = [];

    [GlobalSetup]
    public void Setup()
    {
        IReadOnlyList<long> sizes = GradientBucketingBenchmarks.ResNetLikeSizes();
        _tree = Tree.Dict(sizes.Select((size, i) => KeyValuePair.Create(
            $"layer{i:000}",
            Tree.Dict(("kernel", Tree.Leaf((int)size)), ("bias", Tree.Leaf(i)), ("scale", Tree.Leaf(i))))));
        (System.Collections.Immutable.ImmutableArray<int> leaves, TreeDef structure) = _tree.Flatten();
        _leaves = [.. leaves];
        _structure = structure;
    }

    [Benchmark]
    public Tree<long> Map() => _tree.Map(static x => (long)x * 2);

    [Benchmark]
    public int Flatten() => _tree.Flatten().Leaves.Length;

    [Benchmark]
    public Tree<int> Unflatten() => _structure.Unflatten(_leaves);

    [Benchmark]
    public int LeavesWithPaths() => _tree.LeavesWithPaths().Length;
}
