namespace Artifex;

/// <summary>The kind of a <see cref="Tree{T}"/> node.</summary>
public enum TreeKind
{
    /// <summary>An empty subtree (Python's <c>None</c>): kept by every operation, never mapped.</summary>
    Empty = 0,

    /// <summary>A leaf holding one value.</summary>
    Leaf = 1,

    /// <summary>A dictionary node; keys are kept in ordinal-sorted order, as JAX flattens dicts.</summary>
    Dict = 2,

    /// <summary>A list node; children keep their order.</summary>
    List = 3,
}
