using System.Runtime.InteropServices;
using Artifex.TorchSharp;

namespace Artifex.Testing;

/// <summary>
/// Decides whether a test that needs libtorch runs. On Linux x64 the test projects that compile this file ship libtorch
/// (libtorch-cpu-linux-x64) and the build makes TorchSharp's library loadable, so a failure to load is a failure;
/// elsewhere there is no libtorch for the platform and the test is skipped with the reason.
/// </summary>
internal static class LibTorch
{
    /// <summary>Gets a value indicating whether libtorch must load here.</summary>
    public static bool Required => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Returns when libtorch is loaded; fails where it must load, skips elsewhere.</summary>
    public static void Require()
    {
        if (TorchSharpEnvironment.IsAvailable)
        {
            return;
        }

        string reason = TorchSharpEnvironment.UnavailableReason ?? "no reason given";
        if (Required)
        {
            Assert.Fail($"libtorch must load on Linux x64, where the tests ship it: {reason}");
        }

        Assert.Skip($"libtorch does not load on {RuntimeInformation.RuntimeIdentifier}: {reason}");
    }
}
