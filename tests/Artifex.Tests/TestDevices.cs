namespace Artifex.Tests;

/// <summary>Descriptor-only devices for tests that need no provider.</summary>
internal static class TestDevices
{
    /// <summary>Creates <c>cpu:0 .. cpu:{count-1}</c>, which belong to no provider.</summary>
    public static Device[] Create(int count) => [.. Enumerable.Range(0, count).Select(static i => new Device(i, "cpu", "cpu"))];
}
