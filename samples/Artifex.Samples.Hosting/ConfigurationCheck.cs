using Artifex.Cpu;
using Artifex.Cuda;
using Artifex.Mpi;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Artifex.Samples.Hosting;

/// <summary>
/// Finds a configuration value that cannot be converted to its option's type (<c>Artifex:Cpu:DeviceCount=abc</c>) or that
/// is not a log level (<c>Logging:LogLevel:Default=abc</c>), before the host is built: the binder and the logger factory
/// would otherwise throw on first use, and the process would die of an unhandled exception.
/// </summary>
internal static class ConfigurationCheck
{
    private static readonly (string Section, Type Options)[] s_sections =
    [
        (ArtifexOptions.SectionName, typeof(ArtifexOptions)),
        (CpuProviderOptions.SectionName, typeof(CpuProviderOptions)),
        (CudaProviderOptions.SectionName, typeof(CudaProviderOptions)),
        (MpiProviderOptions.SectionName, typeof(MpiProviderOptions)),
    ];

    /// <summary>Binds every value of the Artifex sections on its own, so the one that fails is known by its key.</summary>
    /// <param name="configuration">The configuration the host will bind the options from.</param>
    /// <returns>One line naming the key and the value that cannot be read, or null.</returns>
    public static string? FindUnreadable(IConfiguration configuration)
    {
        foreach ((string section, Type options) in s_sections)
        {
            foreach (KeyValuePair<string, string?> entry in configuration.GetSection(section).AsEnumerable())
            {
                if (entry.Value is null)
                {
                    continue;
                }

                IConfiguration alone = new ConfigurationBuilder().AddInMemoryCollection([entry]).Build();
                try
                {
                    alone.GetSection(section).Get(options);
                }
                catch (InvalidOperationException e)
                {
                    return $"{entry.Key}='{entry.Value}' cannot be read: {Innermost(e).Message}";
                }
            }
        }

        return FindUnreadableLogLevel(configuration);
    }

    /// <summary>Checks <c>Logging:LogLevel:*</c> and <c>Logging:{provider}:LogLevel:*</c> as the logger factory reads them (a level name or number, any case).</summary>
    private static string? FindUnreadableLogLevel(IConfiguration configuration)
    {
        foreach (KeyValuePair<string, string?> entry in configuration.GetSection("Logging").AsEnumerable())
        {
            string[] segments = entry.Key.Split(ConfigurationPath.KeyDelimiter);
            if (entry.Value is not null && segments.Length >= 2 && string.Equals(segments[^2], "LogLevel", StringComparison.OrdinalIgnoreCase)
                && !Enum.TryParse(entry.Value, ignoreCase: true, out LogLevel _))
            {
                return $"{entry.Key}='{entry.Value}' cannot be read: not a log level ({string.Join(", ", Enum.GetNames<LogLevel>())}).";
            }
        }

        return null;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
