using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Artifex.Cuda;

/// <summary>Registers the CUDA provider as a keyed <see cref="DeviceProvider"/> under <c>"cuda"</c>.</summary>
/// <remarks>
/// The CUDA provider itself is not implemented yet. The registration exists so that configuration can name it and get a
/// clear answer: on a machine without the CUDA driver the start-up validation says so and how to fall back; with a
/// driver it says the provider is not implemented yet. No <see cref="DllNotFoundException"/> ever reaches the caller.
/// </remarks>
public static class CudaServiceCollectionExtensions
{
    /// <summary>The platform name, the key of the CUDA provider's keyed service.</summary>
    public const string PlatformName = "cuda";

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

    /// <summary>Gets why the CUDA provider cannot start on this machine (never null in this version).</summary>
    public static string UnavailableReason =>
        CudaAvailability.UnavailableReason is { } missing
            ? missing
            : "the CUDA provider is not implemented yet in this version of Artifex.NET (the driver library loads).";

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddArtifexProviderRegistration(new ArtifexProviderRegistration(PlatformName, static () => UnavailableReason));
        services.TryAddKeyedSingleton<DeviceProvider>(PlatformName, static (_, _) =>
            throw new PlatformNotSupportedException($"The CUDA provider cannot start: {UnavailableReason} Use the CPU provider (Artifex:Provider=cpu)."));
        return services;
    }
}
