using System.Globalization;

namespace Artifex.Samples.Tests;

/// <summary>What the Hosting sample printed: its header, the mean loss of every step and the final weights.</summary>
internal sealed record HostingReport(string Header, IReadOnlyList<float> Losses, IReadOnlyList<float> Weights)
{
    public static HostingReport Parse(string output)
    {
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length > 0, "the sample printed nothing");
        float[] losses = [.. lines.Where(static l => l.StartsWith("step ", StringComparison.Ordinal)).Select(static l => Number(l[(l.LastIndexOf(' ') + 1)..]))];
        string weights = Assert.Single(lines, static l => l.StartsWith("weights after ", StringComparison.Ordinal));
        int open = weights.IndexOf('[', StringComparison.Ordinal), close = weights.IndexOf(']', StringComparison.Ordinal);
        return new HostingReport(lines[0], losses, [.. weights[(open + 1)..close].Split(", ").Select(Number)]);
    }

    private static float Number(string text) => float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
}
