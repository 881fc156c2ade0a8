using System.Globalization;
using System.Numerics;

namespace Artifex.Mpi.Worker;

/// <summary>
/// Every collective and element type, checked against values each rank computes locally, plus the runtime's facts, a
/// data×model split, chunked calls and mapped errors. Failures are collected, not thrown, so every rank reports.
/// </summary>
internal sealed unsafe partial class SmokeChecks
{
    private const int Count = 1000;
    private const int Block = 5;
    private readonly List<string> _failures = [];
    private MpiCommunicator _world = null!;

    private int Rank => _world.Rank;

    private int Size => _world.Size;

    public int Run(string passMarker)
    {
        MpiRuntime.Initialize();
        _world = MpiRuntime.World;
        CheckRuntime();
        CheckType<float>();
        CheckType<double>();
        CheckType<int>();
        CheckType<long>();
        CheckType<byte>();
        CheckChunking();
        CheckSplits();
        CheckErrors();

        int failed = _failures.Count;
        _world.AllReduce(null, &failed, 1, typeof(int), ReduceOp.Max);
        foreach (string failure in _failures)
        {
            Console.Error.WriteLine($"rank {Rank}/{Size} FAIL: {failure}");
        }

        if (_failures.Count == 0)
        {
            Console.WriteLine($"rank {Rank}/{Size} OK");
        }

        _world.Barrier();
        if (Rank == 0 && failed == 0)
        {
            Console.WriteLine(passMarker);
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>Rank r's element i: small products (exact in every type, no byte overflow up to 9 ranks); 2^33 apart for long.</summary>
    private static T Value<T>(int rank, int index)
        where T : unmanaged, INumber<T>
    {
        T value = T.CreateTruncating((rank + 1) * ((index % 7) + 1));
        return typeof(T) == typeof(long) ? value * T.CreateTruncating(1L << 33) : value;
    }

    private void Expect(bool condition, string what)
    {
        if (!condition)
        {
            _failures.Add(what);
        }
    }

    private void ExpectEqual<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what)
        where T : unmanaged, INumber<T>
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                _failures.Add(string.Create(CultureInfo.InvariantCulture, $"{what}: element {i} is {actual[i]}, expected {expected[i]}"));
                return;
            }
        }
    }

    private void CheckRuntime()
    {
        Expect(MpiRuntime.IsInitialized, "IsInitialized after Initialize");
        MpiRuntime.Initialize(); // idempotent
        Expect(MpiRuntime.Rank == _world.Rank && MpiRuntime.Size == _world.Size, "MpiRuntime.Rank/Size match the world");
        Expect(MpiRuntime.LibraryVersion.StartsWith("Open MPI", StringComparison.Ordinal), $"library version '{MpiRuntime.LibraryVersion}'");
        Expect(MpiRuntime.LocalRank >= 0 && MpiRuntime.LocalRank < MpiRuntime.LocalSize && MpiRuntime.LocalSize <= Size, "local rank within local size");
        string? size = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE");
        string? localRank = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_RANK");
        string? localSize = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE");
        if (MpiRuntime.LaunchedByMpirun)
        {
            Expect(string.Equals(size, Size.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), $"world size {Size} matches OMPI_COMM_WORLD_SIZE={size}");
            Expect(string.Equals(localRank, MpiRuntime.LocalRank.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), $"local rank {MpiRuntime.LocalRank} matches OMPI_COMM_WORLD_LOCAL_RANK={localRank}");
            Expect(string.Equals(localSize, MpiRuntime.LocalSize.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), $"local size {MpiRuntime.LocalSize} matches OMPI_COMM_WORLD_LOCAL_SIZE={localSize}");
        }
        else
        {
            Expect(Size == 1 && Rank == 0 && MpiRuntime.LocalRank == 0 && MpiRuntime.LocalSize == 1, $"singleton: rank {Rank} of {Size}, local {MpiRuntime.LocalRank} of {MpiRuntime.LocalSize}");
        }

        double before = MpiRuntime.WallTime;
        _world.Barrier();
        Expect(MpiRuntime.WallTime >= before, "MPI_Wtime does not go back");
    }
}
