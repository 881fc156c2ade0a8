using System.Globalization;
using Microsoft.Extensions.Options;

namespace Artifex.Cpu;

/// <summary>Rejects CPU provider options that cannot work, with the configuration key in the message.</summary>
internal sealed class CpuProviderOptionsValidator : IValidateOptions<CpuProviderOptions>
{
    public ValidateOptionsResult Validate(string? name, CpuProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [];
        if (options.DeviceCount is < 1)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Artifex:Cpu:DeviceCount must be at least 1, but is {options.DeviceCount}."));
        }

        if (options.CachedBytesLimit < 0)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Artifex:Cpu:CachedBytesLimit must not be negative, but is {options.CachedBytesLimit}."));
        }

        if (options.CollectiveTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Artifex:Cpu:CollectiveTimeout must be positive, but is {options.CollectiveTimeout}.");
        }

        if (options.KernelThreads < 1)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Artifex:Cpu:KernelThreads must be at least 1, but is {options.KernelThreads}."));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
