using System.Globalization;

namespace Artifex.Mpi.Worker;

/// <summary>What a scenario's checks found wrong, collected so that each rank reports every failure in one line.</summary>
internal sealed class Failures
{
    private readonly List<string> _found = [];

    public bool None => _found.Count == 0;

    /// <summary>Records <paramref name="what"/> unless <paramref name="condition"/> holds.</summary>
    public void Check(bool condition, string what)
    {
        if (!condition)
        {
            _found.Add(what);
        }
    }

    /// <summary>Records the first element of <paramref name="actual"/> that differs from <paramref name="expected"/>, exactly.</summary>
    public void Expect(float[] actual, Func<int, float> expected, string what)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] != expected(i))
            {
                _found.Add(string.Create(CultureInfo.InvariantCulture, $"{what}: [{i}] = {actual[i]}, expected {expected(i)}"));
                return;
            }
        }
    }

    /// <summary>The rank's report: <paramref name="ok"/>, or <c>FAILED: </c> and every failure.</summary>
    public string Report(string ok) => None ? ok : "FAILED: " + string.Join("; ", _found);
}
