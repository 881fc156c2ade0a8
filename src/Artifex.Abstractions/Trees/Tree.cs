using System.Collections.Immutable;

namespace Artifex;

/// <summary>Factories and operations for <see cref="Tree{T}"/> (JAX <c>jax.tree</c>).</summary>
public static partial class Tree
{
    /// <summary>Creates a one-leaf tree.</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <param name="value">The leaf value.</param>
    /// <returns>The tree.</returns>
    public static Tree<T> Leaf<T>(T value)
        where T : notnull => Tree<T>.CreateLeaf(value);

    /// <summary>Creates an empty subtree (Python's <c>None</c>).</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <returns>The empty tree.</returns>
    public static Tree<T> Empty<T>()
        where T : notnull => Tree<T>.CreateEmpty();

    /// <summary>Creates a dict node; keys are stored in ordinal-sorted order.</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <param name="entries">The (key, subtree) pairs; a leaf value converts to a subtree implicitly.</param>
    /// <returns>The tree.</returns>
    /// <exception cref="ArgumentException">A key is null or repeated.</exception>
    public static Tree<T> Dict<T>(params (string Key, Tree<T> Value)[] entries)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(entries);
        return Dict(entries.Select(static e => KeyValuePair.Create(e.Key, e.Value)));
    }

    /// <summary>Creates a dict node whose children are all leaves.</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <param name="entries">The (key, leaf) pairs.</param>
    /// <returns>The tree.</returns>
    /// <exception cref="ArgumentException">A key is null or repeated.</exception>
    public static Tree<T> Dict<T>(params (string Key, T Leaf)[] entries)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(entries);
        return Dict(entries.Select(static e => KeyValuePair.Create(e.Key, Tree<T>.CreateLeaf(e.Leaf))));
    }

    /// <summary>Creates a dict node; keys are stored in ordinal-sorted order.</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <param name="entries">The (key, subtree) pairs, in any order.</param>
    /// <returns>The tree.</returns>
    /// <exception cref="ArgumentException">A key is null or repeated.</exception>
    public static Tree<T> Dict<T>(IEnumerable<KeyValuePair<string, Tree<T>>> entries)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(entries);
        KeyValuePair<string, Tree<T>>[] sorted = [.. entries];
        foreach (KeyValuePair<string, Tree<T>> entry in sorted)
        {
            if (entry.Key is null)
            {
                throw new ArgumentException("Dict keys must not be null.", nameof(entries));
            }

            ArgumentNullException.ThrowIfNull(entry.Value, nameof(entries));
        }

        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        for (int i = 1; i < sorted.Length; i++)
        {
            if (string.Equals(sorted[i - 1].Key, sorted[i].Key, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Dict key '{sorted[i].Key}' appears more than once.", nameof(entries));
            }
        }

        return Tree<T>.CreateDict([.. sorted.Select(static e => e.Key)], [.. sorted.Select(static e => e.Value)]);
    }

    /// <summary>Creates a list node.</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <param name="items">The subtrees in order.</param>
    /// <returns>The tree.</returns>
    public static Tree<T> List<T>(params Tree<T>[] items)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(items);
        return List((IEnumerable<Tree<T>>)items);
    }

    /// <summary>Creates a list node.</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <param name="items">The subtrees in order.</param>
    /// <returns>The tree.</returns>
    public static Tree<T> List<T>(IEnumerable<Tree<T>> items)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(items);
        ImmutableArray<Tree<T>> children = [.. items];
        foreach (Tree<T> child in children)
        {
            ArgumentNullException.ThrowIfNull(child, nameof(items));
        }

        return Tree<T>.CreateList(children);
    }

    /// <summary>Builds nested dicts from leaves keyed by path text such as <c>params/dense1/kernel</c> (flax <c>unflatten_dict</c>).</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <param name="flat">The (path, leaf) pairs.</param>
    /// <returns>The tree of dicts.</returns>
    /// <exception cref="ArgumentException">A path is empty, or one path is a prefix of another.</exception>
    public static Tree<T> FromFlat<T>(IEnumerable<KeyValuePair<string, T>> flat)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(flat);
        List<(string[] Segments, T Leaf)> items = [];
        foreach (KeyValuePair<string, T> entry in flat)
        {
            if (string.IsNullOrEmpty(entry.Key))
            {
                throw new ArgumentException("Flat tree paths must not be empty.", nameof(flat));
            }

            items.Add((entry.Key.Split('/'), entry.Value));
        }

        return BuildFromFlat(items, 0, nameof(flat));
    }

    /// <summary>Combines two trees of equal structure leaf by leaf (JAX <c>tree.map(f, a, b)</c>).</summary>
    /// <typeparam name="T1">The leaf type of the first tree.</typeparam>
    /// <typeparam name="T2">The leaf type of the second tree.</typeparam>
    /// <typeparam name="TResult">The result leaf type.</typeparam>
    /// <param name="first">The first tree; gives the structure.</param>
    /// <param name="second">The second tree.</param>
    /// <param name="selector">The function, called once per leaf pair.</param>
    /// <returns>A tree of the first tree's structure.</returns>
    /// <exception cref="ArgumentException">The structures differ.</exception>
    public static Tree<TResult> Map<T1, T2, TResult>(Tree<T1> first, Tree<T2> second, Func<T1, T2, TResult> selector)
        where T1 : notnull
        where T2 : notnull
        where TResult : notnull
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(selector);
        if (!first.Structure.Equals(second.Structure))
        {
            throw new ArgumentException($"Tree structures differ: {first.Structure} and {second.Structure}.", nameof(second));
        }

        ImmutableArray<T2> others = second.Leaves();
        int next = 0;
        return first.Map(leaf => selector(leaf, others[next++]));
    }

    /// <summary>Disposes every leaf of a tree of disposable values (e.g. global arrays).</summary>
    /// <typeparam name="T">The leaf type.</typeparam>
    /// <param name="tree">The tree.</param>
    public static void DisposeLeaves<T>(this Tree<T> tree)
        where T : notnull, IDisposable
    {
        ArgumentNullException.ThrowIfNull(tree);
        foreach (T leaf in tree.Leaves())
        {
            leaf.Dispose();
        }
    }

    private static Tree<T> BuildFromFlat<T>(List<(string[] Segments, T Leaf)> items, int depth, string paramName)
        where T : notnull
    {
        var groups = new Dictionary<string, List<(string[] Segments, T Leaf)>>(StringComparer.Ordinal);
        var leaves = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach ((string[] segments, T leaf) in items)
        {
            string key = segments[depth];
            if (segments.Length == depth + 1)
            {
                if (!leaves.TryAdd(key, leaf) || groups.ContainsKey(key))
                {
                    throw new ArgumentException($"Flat tree path '{string.Join('/', segments)}' is repeated or is a prefix of another path.", paramName);
                }
            }
            else
            {
                if (leaves.ContainsKey(key))
                {
                    throw new ArgumentException($"Flat tree path '{string.Join('/', segments[..(depth + 1)])}' is both a leaf and a subtree.", paramName);
                }

                if (!groups.TryGetValue(key, out List<(string[] Segments, T Leaf)>? group))
                {
                    groups[key] = group = [];
                }

                group.Add((segments, leaf));
            }
        }

        IEnumerable<KeyValuePair<string, Tree<T>>> children =
            leaves.Select(static l => KeyValuePair.Create(l.Key, Tree<T>.CreateLeaf(l.Value)))
            .Concat(groups.Select(g => KeyValuePair.Create(g.Key, BuildFromFlat(g.Value, depth + 1, paramName))));
        return Dict(children);
    }
}
