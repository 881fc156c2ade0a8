using System.Collections.Immutable;

namespace Artifex;

/// <summary>The structure of a <see cref="Tree{T}"/> without its leaves (JAX <c>PyTreeDef</c>).</summary>
/// <remarks>Compares by value; two trees with equal structures can be zipped leaf by leaf.</remarks>
public sealed class TreeDef : IEquatable<TreeDef>
{
    private TreeDef(TreeKind kind, ImmutableArray<string> keys, ImmutableArray<TreeDef> children)
    {
        Kind = kind;
        Keys = keys;
        Children = children;
        LeafCount = kind == TreeKind.Leaf ? 1 : children.Sum(static c => c.LeafCount);
    }

    /// <summary>Gets the node kind.</summary>
    public TreeKind Kind { get; }

    /// <summary>Gets the dict keys in ordinal order; empty for other kinds.</summary>
    public ImmutableArray<string> Keys { get; }

    /// <summary>Gets the child structures.</summary>
    public ImmutableArray<TreeDef> Children { get; }

    /// <summary>Gets the number of leaves.</summary>
    public int LeafCount { get; }

    internal static TreeDef LeafDef { get; } = new(TreeKind.Leaf, [], []);

    internal static TreeDef EmptyDef { get; } = new(TreeKind.Empty, [], []);

    /// <summary>Builds a tree of this structure from leaves in leaf order (JAX <c>tree.unflatten</c>).</summary>
    /// <typeparam name="TLeaf">The leaf type.</typeparam>
    /// <param name="leaves">Exactly <see cref="LeafCount"/> leaves.</param>
    /// <returns>The tree.</returns>
    /// <exception cref="ArgumentException">The number of leaves differs from <see cref="LeafCount"/>.</exception>
    public Tree<TLeaf> Unflatten<TLeaf>(IReadOnlyList<TLeaf> leaves)
        where TLeaf : notnull
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count != LeafCount)
        {
            throw new ArgumentException($"The structure {this} has {LeafCount} leaves, but {leaves.Count} were given.", nameof(leaves));
        }

        int next = 0;
        return Build(leaves, ref next);
    }

    /// <inheritdoc/>
    public bool Equals(TreeDef? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (Kind == other.Kind
                && LeafCount == other.LeafCount
                && Keys.SequenceEqual(other.Keys, StringComparer.Ordinal)
                && Children.SequenceEqual(other.Children)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as TreeDef);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, LeafCount, Children.Length);

    /// <summary>Returns JAX's form, e.g. <c>PyTreeDef({'a': *, 'b': [*, None]})</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"PyTreeDef({Describe()})";

    internal static TreeDef Create(TreeKind kind, ImmutableArray<string> keys, ImmutableArray<TreeDef> children) => new(kind, keys, children);

    private string Describe() => Kind switch
    {
        TreeKind.Leaf => "*",
        TreeKind.Empty => "None",
        TreeKind.Dict => "{" + string.Join(", ", Keys.Select((k, i) => $"'{k}': {Children[i].Describe()}")) + "}",
        _ => "[" + string.Join(", ", Children.Select(static c => c.Describe())) + "]",
    };

    private Tree<TLeaf> Build<TLeaf>(IReadOnlyList<TLeaf> leaves, ref int next)
        where TLeaf : notnull
    {
        switch (Kind)
        {
            case TreeKind.Leaf:
                return Tree<TLeaf>.CreateLeaf(leaves[next++]);
            case TreeKind.Empty:
                return Tree<TLeaf>.CreateEmpty();
            default:
                var children = ImmutableArray.CreateBuilder<Tree<TLeaf>>(Children.Length);
                foreach (TreeDef child in Children)
                {
                    children.Add(child.Build(leaves, ref next));
                }

                return Kind == TreeKind.Dict
                    ? Tree<TLeaf>.CreateDict(Keys, children.MoveToImmutable())
                    : Tree<TLeaf>.CreateList(children.MoveToImmutable());
        }
    }
}
