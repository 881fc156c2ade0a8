using System.Collections.Concurrent;

namespace Artifex.HostRuntime;

/// <summary>The long-lived host thread of one device: the SPMD participants of that device run on it, one at a time.</summary>
internal sealed class HostDeviceThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public HostDeviceThread(Device device)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = $"Artifex {device}" };
        _thread.Start();
    }

    public void Post(Action work) => _work.Add(work);

    public void Dispose()
    {
        _work.CompleteAdding();

        // A thread still running after the wait keeps its collection: disposing it under the thread would crash the process.
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
