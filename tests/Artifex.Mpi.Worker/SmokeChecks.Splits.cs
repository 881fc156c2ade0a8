namespace Artifex.Mpi.Worker;

/// <summary>A 2-D data×model grid from two splits, a split that leaves a rank out, and errors that MPI reports.</summary>
internal sealed unsafe partial class SmokeChecks
{
    private void CheckSplits()
    {
        // rank = d * model + m: 4 ranks make a 2×2 grid, 2 ranks 1×2, odd sizes N×1.
        int model = Size % 2 == 0 ? 2 : 1;
        int data = Size / model;
        int d = Rank / model, m = Rank % model;
        using (MpiCommunicator? modelAxis = _world.Split(d, m, "axis 'model'"))
        using (MpiCommunicator? dataAxis = _world.Split(m, d, "axis 'data'"))
        {
            Expect(modelAxis is { Size: var ms, Rank: var mr } && ms == model && mr == m, $"model axis: {modelAxis}, expected rank {m} of {model}");
            Expect(dataAxis is { Size: var ds, Rank: var dr } && ds == data && dr == d, $"data axis: {dataAxis}, expected rank {d} of {data}");
            if (modelAxis is null || dataAxis is null)
            {
                return;
            }

            long sum = Rank;
            modelAxis.AllReduce(null, &sum, 1, typeof(long), ReduceOp.Sum);
            long expected = Enumerable.Range(0, model).Sum(k => (long)((d * model) + k));
            Expect(sum == expected, $"all_reduce over the model axis gives {sum}, expected {expected}");

            int* gathered = stackalloc int[data];
            int mine = Rank;
            dataAxis.AllGather(&mine, gathered, 1, typeof(int));
            for (int k = 0; k < data; k++)
            {
                Expect(gathered[k] == (k * model) + m, $"all_gather over the data axis: element {k} is {gathered[k]}, expected {(k * model) + m}");
            }

            if (Rank == 0)
            {
                Console.WriteLine($"grid data×model = {data}×{model}: OK so far");
            }
        }

        // A negative colour joins nothing: rank 0 gets null, the others a world without it.
        using MpiCommunicator? rest = _world.Split(Rank == 0 ? -1 : 0, Rank);
        Expect(Rank == 0 ? rest is null : rest is { } c && c.Size == Size - 1 && c.Rank == Rank - 1, $"split without rank 0: {rest?.ToString() ?? "null"}");
        rest?.Barrier();
    }

    private void CheckErrors()
    {
        // MPI validates the root locally on every rank before any message moves, so this cannot leave a rank waiting.
        int value = 0;
        try
        {
            _world.Broadcast(&value, 1, typeof(int), Size);
            Expect(false, "broadcast from a root outside the communicator did not throw");
        }
        catch (MpiException error)
        {
            Expect(error.ErrorCode == 8 && error.Message.Contains("MPI_ERR_ROOT", StringComparison.Ordinal) && string.Equals(error.Api, "MPI_Bcast", StringComparison.Ordinal), $"bad root: {error.Message}");
        }

        try
        {
            _world.AllReduce(null, &value, 1, typeof(int), ReduceOp.Mean);
            Expect(false, "all_reduce with Mean did not throw");
        }
        catch (ArgumentException)
        {
            // expected: the provider sums and divides
        }
    }
}
