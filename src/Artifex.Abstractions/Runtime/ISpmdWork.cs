namespace Artifex.Runtime;

/// <summary>Work that a <see cref="SpmdWorkerPool"/> runs on device threads: a region's participants, or a provider's helpers.</summary>
public interface ISpmdWork
{
    /// <summary>Runs the work for one slot on the calling worker thread. Must not throw: failures belong to the work's own state.</summary>
    /// <param name="index">The index the work was posted with (a region: the participant's mesh position).</param>
    void Run(int index);
}
