using System.Runtime.InteropServices;
using Artifex.Runtime;

namespace Artifex.Mpi.Runtime;

// The collectives themselves: local reduction, one MPI call over the group's processes, copy back.
internal sealed unsafe partial class MpiCollectiveExecutor
{
    public override bool Start()
    {
        ref readonly CollectiveCall first = ref Rendezvous.Agreed;
        MpiCommunicator? communicator = Communicator();
        if (communicator is null)
        {
            // Every rank is in this process: the CPU provider's fused pass, on all local participants' threads.
            _crossProcessRound = false;
            return _local.Start();
        }

        if (DisagreementAcrossProcesses(first, communicator, refused: false) is { } disagreement)
        {
            throw new CollectiveDisagreementException(disagreement);
        }

        bool reduces = first.Kind is CollectiveKind.AllReduce or CollectiveKind.ReduceScatter;
        if (reduces && first.ElementType == typeof(Half))
        {
            throw new NotSupportedException($"{CollectiveCall.Name(first.Kind)} over axis {Description} spans processes, and {MpiProvider.CrossProcessHalfReason}");
        }

        switch (first.Kind)
        {
            case CollectiveKind.AllReduce:
                return StartAllReduce(first, communicator);
            case CollectiveKind.AllGather:
                AllGather(first, communicator);
                break;
            case CollectiveKind.ReduceScatter:
                ReduceScatter(first, communicator);
                break;
            case CollectiveKind.Broadcast:
                Broadcast(first, communicator);
                break;
            default:
                communicator.Barrier();
                break;
        }

        return false;
    }

    /// <inheritdoc/>
    /// <remarks>The other processes of the group are told, so that they fail with a disagreement too instead of waiting.</remarks>
    public override void Refuse(string disagreement)
    {
        if (Communicator() is { } communicator)
        {
            // The exchange's own message only repeats this process's refusal: locally the rendezvous's message stands.
            _ = DisagreementAcrossProcesses(Rendezvous.Agreed, communicator, refused: true);
        }
    }

    /// <inheritdoc/>
    public override void Participate(int rank)
    {
        _local.Participate(rank);
        if (!_crossProcessRound)
        {
            return;
        }

        // The local sum is in the lowest local rank's output: that participant combines it across processes once, then
        // every other local participant copies the result into its own output, in parallel, while the lowest one waits
        // (its output must stay as it is until every copy is done).
        SpmdRegion region = Rendezvous.Region;
        if (rank == LocalRanks[0])
        {
            try
            {
                CombineAcrossProcesses(_round, _roundCommunicator!);
            }
            catch (Exception error)
            {
                _finishFailure = error;
                throw;
            }
            finally
            {
                Interlocked.Increment(ref _finished.Value);
                region.Signal.Notify();
                var copied = new Reached(this, _copyTarget, copies: true);
                Waiting.Until(ref copied, region.Signal, region.WaitPolicy, long.MaxValue, region: null);
            }

            return;
        }

        try
        {
            // MPI calls at these sizes take far longer than a wake-up: block soon rather than spin against its core.
            var finished = new Reached(this, _finishTarget, copies: false);
            Waiting.Until(ref finished, region.Signal, WaitPolicy.Idle, long.MaxValue, region: null);
            if (_finishFailure is { } failure)
            {
                throw new InvalidOperationException($"process {_provider.ProcessIndex}'s MPI call failed: {failure.Message}", failure);
            }

            LocalReduce.Copy(_roundAccumulator!, 0, Calls[rank].Output!, 0, _round.OutputLength);
        }
        finally
        {
            Interlocked.Increment(ref _copied.Value);
            region.Signal.Notify();
        }
    }

    /// <summary>
    /// Checks, before any buffer changes, that every process of the group asks for the same collective as this one: one
    /// MPI all-reduce of two longs on every call (the max of each process's signature hash and of its negation: equal
    /// hashes exactly when max(h) = −max(−h)); only when they differ, an all-gather of the signatures themselves to say
    /// which process brought what. Every process gets the same message, so a mismatch is an error everywhere, never a
    /// silent difference or a truncated transfer.
    /// </summary>
    /// <returns>The disagreement, or <see langword="null"/> when every process agrees.</returns>
    private string? DisagreementAcrossProcesses(in CollectiveCall first, MpiCommunicator communicator, bool refused)
    {
        const int Length = CollectiveSignature.Length;
        Span<long> signature = stackalloc long[Length];
        WriteSignature(first, refused, signature);
        long hash = CollectiveSignature.Hash(signature);
        Span<long> bounds = [hash, -hash];
        fixed (long* pointer = bounds)
        {
            communicator.AllReduce(null, pointer, 2, typeof(long), ReduceOp.Max);
        }

        if (bounds[0] == -bounds[1])
        {
            return null;
        }

        long[] signatures = new long[Length * _layout.Processes.Length];
        signature.CopyTo(signatures.AsSpan(Array.IndexOf(_layout.Processes, _provider.ProcessIndex) * Length, Length));
        fixed (long* pointer = signatures)
        {
            communicator.AllGather(null, pointer, Length, typeof(long));
        }

        string[] parties = [.. _layout.Processes.Select(p => $"process {p} (rank{(_layout.RanksOf(p).Length > 1 ? "s" : string.Empty)} {string.Join(", ", _layout.RanksOf(p))})")];
        return CollectiveSignature.Describe(signatures, parties, Description, first)
            ?? $"Participants of {CollectiveCall.Name(first.Kind)} over axis {Description} disagree across processes. No buffer was changed.";
    }

    private static void WriteSignature(in CollectiveCall call, bool refused, Span<long> signature)
    {
        if (refused)
        {
            CollectiveSignature.WriteRefusal(signature);
        }
        else
        {
            CollectiveSignature.Write(call, signature);
        }
    }

    /// <summary>The group's communicator over its processes, looked up once per rendezvous (null inside one process).</summary>
    private MpiCommunicator? Communicator()
    {
        if (_layout.Processes.Length > 1 && !_communicatorResolved)
        {
            _communicator = _provider.Communicators.Get(Group.Mesh, Group.Names.AsSpan(), Group.GroupIndex);
            _communicatorResolved = true;
        }

        return _communicator;
    }

    /// <summary>
    /// The local step is the CPU provider's fused pass over the local inputs (a sum for a mean) into the lowest local rank's
    /// output, on every local participant's thread; then one MPI call over the group's processes on that output, the
    /// division of a mean, and the copy to the other local outputs. With one local participant there is no local step.
    /// </summary>
    private bool StartAllReduce(in CollectiveCall first, MpiCommunicator communicator)
    {
        _crossProcessRound = false;
        if (LocalRanks.Length == 1)
        {
            LocalReduce.Copy(Calls[LocalRanks[0]].Input!, 0, Calls[LocalRanks[0]].Output!, 0, first.InputLength);
            CombineAcrossProcesses(first, communicator);
            return false;
        }

        if (_local.Start(first.Op == ReduceOp.Mean ? first with { Op = ReduceOp.Sum } : first, firstOutputOnly: true))
        {
            _round = first;
            _roundCommunicator = communicator;
            _roundAccumulator = Calls[LocalRanks[0]].Output;
            _finishFailure = null;
            _finishTarget = Volatile.Read(ref _finished.Value) + 1;
            _copyTarget = Volatile.Read(ref _copied.Value) + LocalRanks.Length - 1;
            _crossProcessRound = true;
            return true;
        }

        CombineAcrossProcesses(first, communicator);
        CopyToOtherOutputs(Calls[LocalRanks[0]].Output!, first.OutputLength);
        return false;
    }

    /// <summary>One MPI all-reduce of the local sum, in place in the lowest local rank's output, then a mean's division.</summary>
    private void CombineAcrossProcesses(in CollectiveCall first, MpiCommunicator communicator)
    {
        DeviceBuffer accumulator = Calls[LocalRanks[0]].Output!;
        communicator.AllReduce(null, LocalReduce.Pointer(accumulator), first.InputLength, first.ElementType!, first.Op == ReduceOp.Mean ? ReduceOp.Sum : first.Op);
        if (first.Op == ReduceOp.Mean)
        {
            LocalReduce.Divide(accumulator, _layout.Size);
        }
    }

    private void AllGather(in CollectiveCall first, MpiCommunicator communicator)
    {
        int[] local = LocalRanks;
        long block = first.InputLength;
        DeviceBuffer gathered = Calls[local[0]].Output!;
        foreach (int rank in local)
        {
            LocalReduce.Copy(Calls[rank].Input!, 0, gathered, rank * block, block);
        }

        if (communicator is not null)
        {
            if (!_layout.HasProcessOrderedBlocks)
            {
                throw new NotSupportedException($"all_gather over axis {Description} needs every process to hold one run of consecutive ranks of the same length, in process order; this mesh interleaves or reorders processes.");
            }

            // MPI_Allgather reads this process's run of blocks from a separate buffer, then fills every block.
            long count = block * local.Length;
            long bytes = count * gathered.ElementSize;
            void* send = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
            try
            {
                LocalReduce.Bytes(gathered).Slice(checked((int)(local[0] * block * gathered.ElementSize)), checked((int)bytes)).CopyTo(new Span<byte>(send, checked((int)bytes)));
                communicator.AllGather(send, LocalReduce.Pointer(gathered), bytes, typeof(byte));
            }
            finally
            {
                NativeMemory.AlignedFree(send);
            }
        }

        CopyToOtherOutputs(gathered, first.OutputLength);
    }

    private void ReduceScatter(in CollectiveCall first, MpiCommunicator communicator)
    {
        // The whole sum, then each local rank keeps its block: twice MPI's minimal traffic, but one code path for any layout.
        int[] local = LocalRanks;
        using DeviceBuffer sum = _provider.AllocateScratch(Calls[local[0]].Input!.Device, first.ElementType!, first.InputLength);
        LocalReduce.Copy(Calls[local[0]].Input!, 0, sum, 0, first.InputLength);
        for (int i = 1; i < local.Length; i++)
        {
            LocalReduce.Combine(sum, Calls[local[i]].Input!, ReduceOp.Sum);
        }

        if (communicator is not null)
        {
            communicator.AllReduce(null, LocalReduce.Pointer(sum), first.InputLength, first.ElementType!, ReduceOp.Sum);
        }

        foreach (int rank in local)
        {
            LocalReduce.Copy(sum, rank * first.OutputLength, Calls[rank].Output!, 0, first.OutputLength);
        }
    }

    private void Broadcast(in CollectiveCall first, MpiCommunicator communicator)
    {
        int[] local = LocalRanks;
        DeviceBuffer value = Calls[local[0]].Output!;
        if (Array.IndexOf(local, first.Root) >= 0)
        {
            LocalReduce.Copy(Calls[first.Root].Input!, 0, value, 0, first.InputLength);
        }

        if (communicator is not null)
        {
            communicator.Broadcast(LocalReduce.Pointer(value), first.InputLength * value.ElementSize, typeof(byte), _layout.CommunicatorRankOf(first.Root));
        }

        CopyToOtherOutputs(value, first.OutputLength);
    }

    private void CopyToOtherOutputs(DeviceBuffer source, long count)
    {
        int[] local = LocalRanks;
        for (int i = 1; i < local.Length; i++)
        {
            LocalReduce.Copy(source, 0, Calls[local[i]].Output!, 0, count);
        }
    }

    private readonly struct Reached(MpiCollectiveExecutor owner, long target, bool copies) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref copies ? ref owner._copied.Value : ref owner._finished.Value) >= target;
    }
}
