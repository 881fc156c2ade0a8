using System.Runtime.Intrinsics;

namespace Artifex.Benchmarks;

/// <summary>
/// The memory-traffic bound of an in-place all-reduce, measured over the same working set: one read-modify-write
/// pass over the same N buffers of S bytes (2·N·S bytes of traffic, exactly what a fused all-reduce must move),
/// split over the caller and one persistent helper thread, as the collectives are on this 2-core machine.
/// </summary>
internal sealed unsafe class TwoThreadProbe : IDisposable
{
    private readonly Thread _helper;
    private float*[] _buffers = [];
    private long _length;
    private long _posted;
    private long _done;
    private volatile bool _stopping;

    public TwoThreadProbe()
    {
        _helper = new Thread(HelperLoop) { IsBackground = true, Name = "probe helper" };
        _helper.Start();
    }

    public void Prepare(float*[] buffers, long length)
    {
        _buffers = buffers;
        _length = length;
    }

    public void Pass()
    {
        long ticket = Interlocked.Increment(ref _posted);
        Work(0);
        while (Volatile.Read(ref _done) != ticket)
        {
            Thread.SpinWait(1);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Interlocked.Increment(ref _posted);
        _helper.Join();
    }

    private void Work(int half)
    {
        long mid = _length / 2 / 16 * 16;
        long start = half == 0 ? 0 : mid;
        long end = half == 0 ? mid : _length;
        // A plain load-multiply-store pass: TensorPrimitives would switch to non-temporal stores on large spans,
        // which is not the access pattern of an in-place all-reduce.
        Vector512<float> one = Vector512.Create(1.0f);
        foreach (float* buffer in _buffers)
        {
            for (long i = start; i < end; i += Vector512<float>.Count)
            {
                Vector512.Store(Vector512.Load(buffer + i) * one, buffer + i);
            }
        }
    }

    private void HelperLoop()
    {
        long seen = 0;
        while (true)
        {
            long posted;
            while ((posted = Volatile.Read(ref _posted)) == seen)
            {
                Thread.SpinWait(1);
            }

            seen = posted;
            if (_stopping)
            {
                return;
            }

            Work(1);
            Volatile.Write(ref _done, posted);
        }
    }
}
