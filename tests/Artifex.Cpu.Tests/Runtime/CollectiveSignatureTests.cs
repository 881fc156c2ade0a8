using Artifex.Runtime;

namespace Artifex.Cpu.Tests.Runtime;

/// <summary>What processes exchange to check that they agree: equal calls agree, and a difference is named in the rendezvous's words.</summary>
public sealed class CollectiveSignatureTests
{
    [Fact]
    public void Describe_OpsDiffer_NamesTheProcessesAndWhatEachBrought()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> x = DeviceArray.Allocate<float>(provider.Devices[0], 6);
        var sum = new CollectiveCall(CollectiveKind.AllReduce, x, x, ReduceOp.Sum);
        long[] rows = new long[3 * CollectiveSignature.Length];
        CollectiveSignature.Write(sum, rows.AsSpan(0));
        CollectiveSignature.Write(sum with { Op = ReduceOp.Max }, rows.AsSpan(CollectiveSignature.Length));
        CollectiveSignature.Write(sum, rows.AsSpan(2 * CollectiveSignature.Length));

        string? message = CollectiveSignature.Describe(rows, ["process 0 (ranks 0, 1)", "process 1 (rank 2)", "process 2 (rank 3)"], "'data'", sum);

        Assert.Equal(
            "Participants of all_reduce over axis 'data' disagree on the reduce op: process 0 (ranks 0, 1), process 2 (rank 3) have Sum; process 1 (rank 2) has Max. No buffer was changed.",
            message);
        Assert.Null(CollectiveSignature.Describe(rows.AsSpan(0, CollectiveSignature.Length), ["process 0 (rank 0)"], "'data'", sum));
    }

    [Fact]
    public void Describe_SameCountOtherShapeOrType_AndARefusal_AreDisagreements()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> flat = DeviceArray.Allocate<float>(provider.Devices[0], 6);
        using DeviceArray<float> square = DeviceArray.Allocate<float>(provider.Devices[0], [2, 3]);
        using DeviceArray<int> ints = DeviceArray.Allocate<int>(provider.Devices[0], 6);
        var call = new CollectiveCall(CollectiveKind.AllGather, flat, flat);
        long[] rows = new long[2 * CollectiveSignature.Length];
        CollectiveSignature.Write(call, rows.AsSpan(0));

        CollectiveSignature.Write(new CollectiveCall(CollectiveKind.AllGather, square, square), rows.AsSpan(CollectiveSignature.Length));
        Assert.Contains("disagree on the shape: process 0 has (6,); process 1 has (2, 3).", CollectiveSignature.Describe(rows, ["process 0", "process 1"], "'data'", call), StringComparison.Ordinal);

        CollectiveSignature.Write(new CollectiveCall(CollectiveKind.AllGather, ints, ints), rows.AsSpan(CollectiveSignature.Length));
        Assert.Contains("disagree on the element type: process 0 has Single; process 1 has Int32.", CollectiveSignature.Describe(rows, ["process 0", "process 1"], "'data'", call), StringComparison.Ordinal);

        CollectiveSignature.WriteRefusal(rows.AsSpan(CollectiveSignature.Length));
        Assert.Contains("disagree on the collective: process 0 has all_gather; process 1 has a disagreement among its own participants.", CollectiveSignature.Describe(rows, ["process 0", "process 1"], "'data'", call), StringComparison.Ordinal);
    }
}
