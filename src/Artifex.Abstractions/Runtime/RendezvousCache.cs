using System.Runtime.CompilerServices;

namespace Artifex.Runtime;

/// <summary>
/// The rendezvous points of the last region that completed cleanly over each mesh, for the next region over it: a
/// training loop runs one region per step, and reusing them (with their executors) keeps a step from allocating them
/// again. Keyed weakly by the mesh, so a mesh nobody uses any more takes its entry with it.
/// </summary>
internal sealed class RendezvousCache
{
    private readonly ConditionalWeakTable<Mesh, Slot> _slots = [];
    private readonly Lock _gate = new();

    /// <summary>Takes the mesh's rendezvous points, or <see langword="null"/> when none are kept (or a running region holds them).</summary>
    public Dictionary<string, Rendezvous?[]>? Rent(Mesh mesh)
    {
        lock (_gate)
        {
            if (!_slots.TryGetValue(mesh, out Slot? slot) || slot.Groups is null)
            {
                return null;
            }

            Dictionary<string, Rendezvous?[]> groups = slot.Groups;
            slot.Groups = null;
            return groups;
        }
    }

    /// <summary>Keeps a cleanly completed region's rendezvous points for the next region over the mesh.</summary>
    public void Return(Mesh mesh, Dictionary<string, Rendezvous?[]> groups)
    {
        lock (_gate)
        {
            _slots.GetOrCreateValue(mesh).Groups = groups;
        }
    }

    private sealed class Slot
    {
        public Dictionary<string, Rendezvous?[]>? Groups { get; set; }
    }
}
