using System.Collections.Immutable;
using System.Globalization;

namespace Artifex.Runtime;

/// <summary>
/// Everything participants of a collective must agree on, as a fixed row of <see cref="long"/>s: what a provider whose
/// participants live in several processes exchanges to check agreement before any buffer changes (the in-process
/// <see cref="Rendezvous"/> compares the <see cref="CollectiveCall"/>s themselves).
/// </summary>
/// <remarks>
/// Agreement needs one element-wise max over <c>[h, −h]</c> of the signature's <see cref="Hash"/>: every party brought the
/// same hash exactly when the maximum equals minus the maximum of the negation. Only a disagreement needs the rows
/// themselves, to say who brought what.
/// </remarks>
public static class CollectiveSignature
{
    /// <summary>The number of fields of a signature.</summary>
    public const int Length = 24;

    private const int ShapeDims = 7;
    private const int InputRank = 8;
    private const int OutputRank = InputRank + ShapeDims + 1;
    private const ulong FnvOffset = 14695981039346656037;

    private static readonly Type[] s_namedTypes =
        [typeof(float), typeof(double), typeof(Half), typeof(int), typeof(long), typeof(byte), typeof(sbyte), typeof(short), typeof(ushort), typeof(uint), typeof(ulong)];

    /// <summary>
    /// Writes the signature of a party whose own participants disagree: it differs from every real signature, so the
    /// other parties fail too instead of waiting for a collective this party will not run.
    /// </summary>
    /// <param name="signature">At least <see cref="Length"/> elements.</param>
    public static void WriteRefusal(Span<long> signature)
    {
        signature[..Length].Clear();
        signature[0] = -1;
    }

    /// <summary>Writes the signature of <paramref name="call"/>.</summary>
    /// <param name="call">The call.</param>
    /// <param name="signature">At least <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException"><paramref name="signature"/> is too short.</exception>
    public static void Write(in CollectiveCall call, Span<long> signature)
    {
        if (signature.Length < Length)
        {
            throw new ArgumentException($"A collective signature needs {Length} elements, not {signature.Length}.", nameof(signature));
        }

        signature[0] = (long)call.Kind;
        signature[1] = call.ElementType is null ? 0 : TypeCode(call.ElementType);
        signature[2] = call.ElementSize;
        signature[3] = call.InputLength;
        signature[4] = call.OutputLength;
        signature[5] = call.Kind == CollectiveKind.AllReduce ? (long)call.Op : -1;
        signature[6] = call.Root;
        signature[7] = call.Reproducible ? 1 : 0;
        WriteShape(call.InputShape, signature.Slice(InputRank, ShapeDims + 1));
        WriteShape(call.OutputShape, signature.Slice(OutputRank, ShapeDims + 1));
    }

    /// <summary>
    /// Gets a hash of a signature (FNV-1a over its fields, kept in [1, 2^62]): what processes compare on every call, so the
    /// check moves two longs instead of the signature.
    /// </summary>
    /// <param name="signature">A signature of <see cref="Length"/> fields.</param>
    /// <returns>The hash.</returns>
    public static long Hash(ReadOnlySpan<long> signature)
    {
        ulong hash = FnvOffset;
        foreach (long field in signature[..Length])
        {
            hash = Fnv(hash, (ulong)field);
        }

        return (long)(hash >> 2) | 1;
    }

    /// <summary>
    /// Describes how the signatures of several parties disagree, in the order and words of the in-process check, or
    /// returns <see langword="null"/> when they agree.
    /// </summary>
    /// <param name="signatures">The parties' signatures, <see cref="Length"/> each, concatenated.</param>
    /// <param name="parties">How each party is named, e.g. <c>process 1 (ranks 2, 3)</c>; one per signature.</param>
    /// <param name="axis">The axis as messages show it, e.g. <c>'data'</c>.</param>
    /// <param name="local">This party's call, whose element type names a matching type code.</param>
    /// <returns>The message, or <see langword="null"/>.</returns>
    public static string? Describe(ReadOnlySpan<long> signatures, IReadOnlyList<string> parties, string axis, in CollectiveCall local)
    {
        ArgumentNullException.ThrowIfNull(parties);
        long[] rows = signatures.ToArray();
        Type? localType = local.ElementType;
        var fields = new (string What, Func<long[], string> Key)[]
        {
            ("collective", static s => s[0] < 0 ? "a disagreement among its own participants" : CollectiveCall.Name((CollectiveKind)s[0])),
            ("element type", s => s[1] == 0 ? "none" : TypeName(s[1], s[2], localType)),
            ("element count", static s => s[3].ToString(CultureInfo.InvariantCulture)),
            ("output element count", static s => s[4].ToString(CultureInfo.InvariantCulture)),
            ("shape", static s => ShapeText(s.AsSpan(InputRank, ShapeDims + 1))),
            ("output shape", static s => ShapeText(s.AsSpan(OutputRank, ShapeDims + 1))),
            ("reduce op", static s => s[5] < 0 ? "none" : ((ReduceOp)s[5]).ToString()),
            ("root", static s => s[6].ToString(CultureInfo.InvariantCulture)),
            ("determinism", static s => s[7] == 1 ? "Reproducible" : "RankOrdered"),
        };

        string[][] keys = [.. fields.Select(f => Enumerable.Range(0, parties.Count).Select(p => f.Key(rows[(p * Length)..((p + 1) * Length)])).ToArray())];
        string name = CollectiveCall.Name(local.Kind);
        for (int f = 0; f < fields.Length; f++)
        {
            if (keys[f].Distinct(StringComparer.Ordinal).Count() > 1)
            {
                return Disagreement(name, axis, fields[f].What, parties, keys[f]);
            }
        }

        return null;
    }

    /// <summary>The one wording of a disagreement: who brought what, grouped by what they brought.</summary>
    internal static string Disagreement(string collective, string axis, string what, IReadOnlyList<string> parties, IReadOnlyList<string> keys)
    {
        IEnumerable<string> groups = Enumerable.Range(0, parties.Count)
            .GroupBy(p => keys[p], StringComparer.Ordinal)
            .Select(g => $"{Join(g.Select(p => parties[p]).ToArray())} {(g.Count() > 1 ? "have" : "has")} {g.Key}");
        return $"Participants of {collective} over axis {axis} disagree on the {what}: {string.Join("; ", groups)}. No buffer was changed.";
    }

    /// <summary>Joins party names, folding "rank 0", "rank 1" into "ranks 0, 1".</summary>
    private static string Join(string[] names)
    {
        const string Rank = "rank ";
        return names.Length > 1 && names.All(n => n.StartsWith(Rank, StringComparison.Ordinal))
            ? $"ranks {string.Join(", ", names.Select(n => n[Rank.Length..]))}"
            : string.Join(", ", names);
    }

    private static long TypeCode(Type type)
    {
        // FNV-1a over the full name: the same in every process that runs the same code.
        ulong hash = FnvOffset;
        foreach (char c in type.FullName ?? type.Name)
        {
            hash = Fnv(hash, c);
        }

        return (long)(hash & long.MaxValue) | 1;
    }

    /// <summary>One FNV-1a step: the hash of signatures and of type names.</summary>
    private static ulong Fnv(ulong hash, ulong value) => (hash ^ value) * 1099511628211;

    private static string TypeName(long code, long size, Type? local)
    {
        if (local is not null && TypeCode(local) == code)
        {
            return local.Name;
        }

        Type? named = s_namedTypes.FirstOrDefault(t => TypeCode(t) == code);
        return named?.Name ?? $"another {size}-byte element type";
    }

    private static void WriteShape(ImmutableArray<long> shape, Span<long> field)
    {
        field.Clear();
        if (shape.IsDefault)
        {
            field[0] = -1;
            return;
        }

        field[0] = shape.Length;
        for (int i = 0; i < shape.Length; i++)
        {
            // Dimensions past the field's room fold into its last slot, so any difference still shows as a different shape.
            int slot = Math.Min(i, ShapeDims - 1) + 1;
            field[slot] = i < ShapeDims - 1 ? shape[i] : (field[slot] * 1_000_003) + shape[i];
        }
    }

    private static string ShapeText(ReadOnlySpan<long> field)
    {
        if (field[0] < 0)
        {
            return "none";
        }

        int rank = (int)field[0];
        return rank <= ShapeDims ? Python.Shape(field.Slice(1, rank)) : $"a shape of {rank} dimensions";
    }
}
