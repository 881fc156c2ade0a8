using System.Globalization;
using Artifex.Cuda.Native;

namespace Artifex.Cuda.Runtime;

/// <summary>
/// The NCCL communicators of one provider, one set per ordered group of devices (an axis group of a mesh), created on
/// first use with <c>ncclCommInitAll</c> and kept until the provider is disposed.
/// </summary>
internal sealed unsafe class NcclCommunicatorCache : IDisposable
{
    private readonly Dictionary<string, CudaResourceHandle[]> _communicators = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Gets the communicators of a group, rank r's at index r.</summary>
    public CudaResourceHandle[] Get(IReadOnlyList<CudaDeviceState> members)
    {
        string key = string.Join(',', members.Select(static m => m.Ordinal.ToString(CultureInfo.InvariantCulture)));
        lock (_lock)
        {
            if (_communicators.TryGetValue(key, out CudaResourceHandle[]? existing))
            {
                return existing;
            }

            if (!CudaLibraries.TryLoad(CudaLibrary.Nccl, out string? reason))
            {
                throw new NotSupportedException($"Collectives over more than one GPU run on NCCL, which is not available: {reason}");
            }

            CudaResourceHandle[] created = Create(members);
            _communicators.Add(key, created);
            return created;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (CudaResourceHandle[] set in _communicators.Values)
            {
                NcclTeardown.End(set);
            }

            _communicators.Clear();
        }
    }

    private static CudaResourceHandle[] Create(IReadOnlyList<CudaDeviceState> members)
    {
        int count = members.Count;
        nint* comms = stackalloc nint[count];
        int* ordinals = stackalloc int[count];
        for (int r = 0; r < count; r++)
        {
            ordinals[r] = members[r].Ordinal;
        }

        CudaCheck.Nccl(Nccl.ncclCommInitAll(comms, count, ordinals), "ncclCommInitAll");
        var handles = new CudaResourceHandle[count];
        for (int r = 0; r < count; r++)
        {
            handles[r] = new CudaResourceHandle(CudaResourceKind.NcclCommunicator, comms[r], members[r].Context);
        }

        // ncclCommInitAll leaves some device's context current (NVIDIA/nccl#2231); callers set their own before any work.
        return handles;
    }
}
