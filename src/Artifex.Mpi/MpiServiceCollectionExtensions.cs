using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Artifex.Mpi;

/// <summary>Registers the MPI provider as a keyed <see cref="DeviceProvider"/> under <c>"mpi"</c>.</summary>
/// <remarks>Without OpenMPI, choosing <c>mpi</c> fails at start-up validation with the reason; no <see cref="DllNotFoundException"/> reaches the caller.</remarks>
public static class MpiServiceCollectionExtensions
{
    /// <summary>Registers the MPI provider (keyed <c>"mpi"</c>) with options.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifexMpi(this IServiceCollection services, Action<MpiProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<MpiProviderOptions> options = services.AddOptions<MpiProviderOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(services);
    }

    /// <summary>Registers the MPI provider with options bound from <c>Artifex:Mpi</c> of <paramref name="configuration"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The root configuration.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifexMpi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MpiProviderOptions>().Bind(configuration.GetSection(MpiProviderOptions.SectionName));
        return AddCore(services);
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddArtifexProviderRegistration(new ArtifexProviderRegistration(MpiProvider.ProviderName, static () => MpiRuntime.IsAvailable ? null : MpiRuntime.UnavailableReason));
        services.TryAddKeyedSingleton<DeviceProvider>(MpiProvider.ProviderName, static (sp, _) =>
            new MpiProvider(sp.GetRequiredService<IOptions<MpiProviderOptions>>().Value, sp.GetService<ILogger<MpiProvider>>()));
        return services;
    }
}
