using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Artifex;

/// <summary>
/// An immutable tree of values: the .NET counterpart of a JAX pytree.
/// </summary>
/// <typeparam name="T">The leaf type, e.g. <see cref="HostArray"/> or <see cref="GlobalArray"/>.</typeparam>
/// <remarks>
/// A node is a leaf, a dict (keys in ordinal-sorted order, as JAX flattens dicts), a list, or empty
/// (Python's <c>None</c>: preserved by every operation and never mapped). Leaves are visited depth first,
/// left to right. Build trees with the factories on <see cref="Tree"/>; a leaf value converts implicitly
/// to a one-leaf tree.
/// </remarks>
public sealed class Tree<T>
    where T : notnull
{
    private static readonly Tree<T> s_empty = new(TreeKind.Empty, default, [], []);

    private readonly T? _value;
    private TreeDef? _structure;

    private Tree(TreeKind kind, T? value, ImmutableArray<string> keys, ImmutableArray<Tree<T>> children)
    {
        Kind = kind;
        _value = value;
        Keys = keys;
        Children = children;
        LeafCount = kind == TreeKind.Leaf ? 1 : children.Sum(static c => c.LeafCount);
    }

    /// <summary>Gets the node kind.</summary>
    public TreeKind Kind { get; }

    /// <summary>Gets a value indicating whether this node is a leaf.</summary>
    public bool IsLeaf => Kind == TreeKind.Leaf;

    /// <summary>Gets a value indicating whether this node is empty (<c>None</c>).</summary>
    public bool IsEmpty => Kind == TreeKind.Empty;

    /// <summary>Gets the keys of a dict node in ordinal order; empty for other kinds.</summary>
    public ImmutableArray<string> Keys { get; }

    /// <summary>Gets the children of a dict (in key order) or list node; empty for other kinds.</summary>
    public ImmutableArray<Tree<T>> Children { get; }

    /// <summary>Gets the number of leaves below this node.</summary>
    public int LeafCount { get; }

    /// <summary>Gets the value of a leaf node.</summary>
    /// <exception cref="InvalidOperationException">The node is not a leaf.</exception>
    public T Value => IsLeaf ? _value! : throw new InvalidOperationException($"This tree node is a {Kind} node, not a leaf.");

    /// <summary>Gets the structure (JAX <c>PyTreeDef</c>).</summary>
    public TreeDef Structure => _structure ??= Kind switch
    {
        TreeKind.Leaf => TreeDef.LeafDef,
        TreeKind.Empty => TreeDef.EmptyDef,
        _ => TreeDef.Create(Kind, Keys, [.. Children.Select(static c => c.Structure)]),
    };

    /// <summary>Gets the child of a dict node.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The child.</returns>
    /// <exception cref="KeyNotFoundException">The node is not a dict or has no such key.</exception>
    public Tree<T> this[string key] => TryGetChild(key, out Tree<T>? child)
        ? child
        : throw new KeyNotFoundException(Kind == TreeKind.Dict
            ? $"The dict has no key '{key}'; its keys are {Python.List(Keys.Select(Python.Str))}."
            : $"A {Kind} node has no key '{key}'.");

    /// <summary>Gets the child of a list or dict node by position.</summary>
    /// <param name="index">The position.</param>
    /// <returns>The child.</returns>
    /// <exception cref="IndexOutOfRangeException">The position is out of range.</exception>
    public Tree<T> this[int index] => Children[index];

    /// <summary>Gets the child of a dict node.</summary>
    /// <param name="key">The key.</param>
    /// <param name="child">The child when found.</param>
    /// <returns><see langword="true"/> when found.</returns>
    public bool TryGetChild(string key, [NotNullWhen(true)] out Tree<T>? child)
    {
        int i = Kind == TreeKind.Dict ? Keys.BinarySearch(key, StringComparer.Ordinal) : -1;
        child = i >= 0 ? Children[i] : null;
        return child is not null;
    }

    /// <summary>Gets the subtree at a path such as <c>params/dense1/kernel</c>.</summary>
    /// <param name="path">The path.</param>
    /// <returns>The subtree.</returns>
    /// <exception cref="KeyNotFoundException">No node has that path.</exception>
    public Tree<T> GetSubtree(TreePath path)
    {
        Tree<T> node = this;
        foreach (string segment in path.Segments)
        {
            node = node.Kind == TreeKind.List && int.TryParse(segment, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i) && (uint)i < (uint)node.Children.Length
                ? node.Children[i]
                : node.TryGetChild(segment, out Tree<T>? child) ? child : throw new KeyNotFoundException($"The tree has no node at '{path}'.");
        }

        return node;
    }

    /// <summary>Gets the leaves, depth first, left to right (JAX <c>tree.leaves</c>).</summary>
    /// <returns>The leaves.</returns>
    public ImmutableArray<T> Leaves()
    {
        var builder = ImmutableArray.CreateBuilder<T>(LeafCount);
        CollectLeaves(builder);
        return builder.MoveToImmutable();
    }

    /// <summary>Gets the leaves with their paths, in leaf order (JAX <c>tree.flatten_with_path</c>).</summary>
    /// <returns>The (path, leaf) pairs.</returns>
    public ImmutableArray<KeyValuePair<TreePath, T>> LeavesWithPaths()
    {
        var builder = ImmutableArray.CreateBuilder<KeyValuePair<TreePath, T>>(LeafCount);
        CollectLeavesWithPaths(TreePath.Root, builder);
        return builder.MoveToImmutable();
    }

    /// <summary>Splits the tree into its leaves and its structure (JAX <c>tree.flatten</c>).</summary>
    /// <returns>The leaves in order and the structure; <see cref="TreeDef.Unflatten{TLeaf}"/> reverses it.</returns>
    public (ImmutableArray<T> Leaves, TreeDef Structure) Flatten() => (Leaves(), Structure);

    /// <summary>Applies a function to every leaf; empty nodes stay empty (JAX <c>tree.map</c>).</summary>
    /// <typeparam name="TResult">The new leaf type.</typeparam>
    /// <param name="selector">The function, called once per leaf in leaf order.</param>
    /// <returns>A new tree of the same structure.</returns>
    public Tree<TResult> Map<TResult>(Func<T, TResult> selector)
        where TResult : notnull
    {
        ArgumentNullException.ThrowIfNull(selector);
        return MapCore(selector);
    }

    /// <summary>Applies a function to every leaf and its path.</summary>
    /// <typeparam name="TResult">The new leaf type.</typeparam>
    /// <param name="selector">The function, called once per leaf in leaf order.</param>
    /// <returns>A new tree of the same structure.</returns>
    public Tree<TResult> MapWithPath<TResult>(Func<TreePath, T, TResult> selector)
        where TResult : notnull
    {
        ArgumentNullException.ThrowIfNull(selector);
        return MapCore(TreePath.Root, selector);
    }

    /// <summary>Returns the leaves keyed by their path text, in leaf order (flax <c>flatten_dict</c>).</summary>
    /// <returns>The flat view.</returns>
    public IReadOnlyList<KeyValuePair<string, T>> ToFlat() =>
        [.. LeavesWithPaths().Select(static p => KeyValuePair.Create(p.Key.ToString(), p.Value))];

    /// <summary>Returns e.g. <c>{'a': 1, 'b': [2, None]}</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => Kind switch
    {
        TreeKind.Leaf => _value!.ToString() ?? string.Empty,
        TreeKind.Empty => "None",
        TreeKind.Dict => "{" + string.Join(", ", Keys.Select((k, i) => $"'{k}': {Children[i]}")) + "}",
        _ => "[" + string.Join(", ", Children) + "]",
    };

    /// <summary>Wraps a value in a one-leaf tree.</summary>
    /// <param name="leaf">The value.</param>
    public static implicit operator Tree<T>(T leaf) => CreateLeaf(leaf);

    internal static Tree<T> CreateLeaf(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(TreeKind.Leaf, value, [], []);
    }

    internal static Tree<T> CreateEmpty() => s_empty;

    internal static Tree<T> CreateDict(ImmutableArray<string> sortedKeys, ImmutableArray<Tree<T>> children) =>
        new(TreeKind.Dict, default, sortedKeys, children);

    internal static Tree<T> CreateList(ImmutableArray<Tree<T>> children) => new(TreeKind.List, default, [], children);

    /// <summary>Map without building paths: a path per node would allocate for every leaf of every step.</summary>
    private Tree<TResult> MapCore<TResult>(Func<T, TResult> selector)
        where TResult : notnull => Kind switch
        {
            TreeKind.Leaf => Tree<TResult>.CreateLeaf(selector(_value!)),
            TreeKind.Empty => Tree<TResult>.CreateEmpty(),
            TreeKind.Dict => Tree<TResult>.CreateDict(Keys, [.. Children.Select(c => c.MapCore(selector))]),
            _ => Tree<TResult>.CreateList([.. Children.Select(c => c.MapCore(selector))]),
        };

    internal Tree<TResult> MapCore<TResult>(TreePath path, Func<TreePath, T, TResult> selector)
        where TResult : notnull => Kind switch
        {
            TreeKind.Leaf => Tree<TResult>.CreateLeaf(selector(path, _value!)),
            TreeKind.Empty => Tree<TResult>.CreateEmpty(),
            TreeKind.Dict => Tree<TResult>.CreateDict(Keys, [.. Children.Select((c, i) => c.MapCore(path.Append(Keys[i]), selector))]),
            _ => Tree<TResult>.CreateList([.. Children.Select((c, i) => c.MapCore(path.Append(i), selector))]),
        };

    private void CollectLeaves(ImmutableArray<T>.Builder builder)
    {
        if (IsLeaf)
        {
            builder.Add(_value!);
            return;
        }

        foreach (Tree<T> child in Children)
        {
            child.CollectLeaves(builder);
        }
    }

    private void CollectLeavesWithPaths(TreePath path, ImmutableArray<KeyValuePair<TreePath, T>>.Builder builder)
    {
        if (IsLeaf)
        {
            builder.Add(KeyValuePair.Create(path, _value!));
            return;
        }

        for (int i = 0; i < Children.Length; i++)
        {
            Children[i].CollectLeavesWithPaths(Kind == TreeKind.Dict ? path.Append(Keys[i]) : path.Append(i), builder);
        }
    }
}
