using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Artifex.Cuda;

/// <summary>Registers the CUDA provider as a keyed <see cref="DeviceProvider"/> under <c>"cuda"</c>.</summary>
/// <remarks>
/// On a machine without a usable GPU the registration stays harmless: choosing <c>cuda</c> fails at start-up validation
/// with the probe's reason and how to fall back to the CPU provider. No <see cref="DllNotFoundException"/> ever reaches the
/// caller.
/// </remarks>
public static class CudaServiceCollectionExtensions
{
    /// <summary>The platform name, the key of the CUDA provider's keyed service.</summary>
    public const string PlatformName = CudaProvider.PlatformName;

    /// <summary>Registers the CUDA provider (keyed <c>"cuda"</c>) with options.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifexCuda(this IServiceCollection services, Action<CudaProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<CudaProviderOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(services);
    }

    /// <summary>Registers the CUDA provider with options bound from <c>Artifex:Cuda</c> of <paramref name="configuration"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The root configuration.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifexCuda(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<CudaProviderOptions>().Bind(configuration.GetSection(CudaProviderOptions.SectionName));
        return AddCore(services);
    }

    /// <summary>Gets why the CUDA provider cannot start on this machine, or <see langword="null"/> when a GPU is usable (from <see cref="CudaProbe.Current"/>).</summary>
    public static string? UnavailableReason => CudaProbe.Current.IsAvailable ? null : CudaProbe.Current.Reason;

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddArtifexProviderRegistration(new ArtifexProviderRegistration(PlatformName, static () => UnavailableReason));
        services.TryAddKeyedSingleton<DeviceProvider>(PlatformName, static (sp, _) =>
            UnavailableReason is { } reason
                ? throw new PlatformNotSupportedException($"The CUDA provider cannot start: {reason} Use the CPU provider (Artifex:Provider=cpu).")
                : new CudaProvider(sp.GetRequiredService<IOptions<CudaProviderOptions>>().Value, sp.GetService<ILogger<CudaProvider>>()));
        return services;
    }
}
