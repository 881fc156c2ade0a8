namespace Artifex.Cuda.Tests.Native;

/// <summary>Builds an environment-variable lookup from pairs, so tests never touch the process environment.</summary>
internal static class FakeEnvironment
{
    public static Func<string, string?> Of(params (string Name, string? Value)[] variables)
    {
        Dictionary<string, string?> map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }
}
