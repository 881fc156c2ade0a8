using System.Collections.Concurrent;

namespace Artifex.Mpi.Runtime;

/// <summary>The long-lived thread of one local device: its SPMD participants run on it, one at a time.</summary>
internal sealed class MpiDeviceWorker : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public MpiDeviceWorker(Device device)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = $"Artifex {device}" };
        _thread.Start();
    }

    public void Post(Action work) => _work.Add(work);

    public void Dispose()
    {
        _work.CompleteAdding();
        if (_thread.Join(TimeSpan.FromSeconds(5)))
        {
            _work.Dispose();
        }
    }

    private void Loop()
    {
        foreach (Action work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }
}
