using System.Globalization;

namespace Artifex.Cuda.Tests;

/// <summary>
/// Decides whether a GPU test runs: without a usable GPU it is skipped with the probe's reason, unless
/// <c>ARTIFEX_REQUIRE_GPU=1</c>, which turns a missing GPU into a failure (for the GPU machine, where skipping would hide a
/// broken setup). A test that needs more GPUs than the machine has is skipped either way.
/// </summary>
internal static class GpuEnvironment
{
    public const string RequireVariable = "ARTIFEX_REQUIRE_GPU";

    public static bool Required => string.Equals(Environment.GetEnvironmentVariable(RequireVariable), "1", StringComparison.Ordinal);

    /// <summary>Skips (or fails, when required) unless at least <paramref name="deviceCount"/> GPUs are usable.</summary>
    public static void Require(int deviceCount = 1)
    {
        CudaProbeResult probe = CudaProbe.Current;
        if (!probe.IsAvailable)
        {
            string reason = $"No usable GPU: {probe.Reason}";
            if (Required)
            {
                Assert.Fail($"{RequireVariable}=1, but there is no usable GPU: {probe}");
            }

            Assert.Skip(reason);
        }

        if (probe.DeviceCount < deviceCount)
        {
            Assert.Skip(string.Create(CultureInfo.InvariantCulture, $"Needs {deviceCount} GPUs; this machine has {probe.DeviceCount}."));
        }
    }

    /// <summary>Creates a provider over <paramref name="deviceCount"/> GPUs, or skips.</summary>
    public static CudaProvider CreateProvider(int deviceCount)
    {
        Require(deviceCount);
        return new CudaProvider(deviceCount);
    }
}
