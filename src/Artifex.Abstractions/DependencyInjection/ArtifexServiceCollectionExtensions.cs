using Artifex.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Artifex;

/// <summary>Registers the provider-neutral services of Artifex.NET.</summary>
public static class ArtifexServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="DataParallel"/>, <see cref="DistributedMetrics"/>, <see cref="DeviceMeshManager"/>,
    /// <see cref="ICollectives"/> and the default <see cref="DeviceProvider"/>: the keyed provider named by
    /// <see cref="ArtifexOptions.Provider"/>. Register providers with <c>AddArtifexCpu</c> / <c>AddArtifexCuda</c>.
    /// Existing registrations win (TryAdd).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifex(this IServiceCollection services, Action<ArtifexOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<ArtifexOptions> options = services.AddOptions<ArtifexOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(services, options);
    }

    /// <summary>Registers the core services with options bound from the <c>Artifex</c> section of <paramref name="configuration"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The root configuration (or any configuration with an <c>Artifex</c> section).</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifex(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, services.AddOptions<ArtifexOptions>().Bind(configuration.GetSection(ArtifexOptions.SectionName)));
    }

    /// <summary>Adds a provider's registration record once per name. For provider assemblies.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="registration">The registration.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifexProviderRegistration(this IServiceCollection services, ArtifexProviderRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(registration);
        bool present = services.Any(d => d.ServiceType == typeof(ArtifexProviderRegistration)
            && d.ImplementationInstance is ArtifexProviderRegistration existing
            && string.Equals(existing.Name, registration.Name, StringComparison.Ordinal));
        if (!present)
        {
            services.AddSingleton(registration);
        }

        return services;
    }

    private static IServiceCollection AddCore(IServiceCollection services, OptionsBuilder<ArtifexOptions> options)
    {
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ArtifexOptions>, ArtifexOptionsValidator>());
        services.TryAddSingleton(static sp =>
        {
            // Reading the options runs the validator, so an unknown or unusable provider fails with its message here.
            string name = sp.GetRequiredService<IOptions<ArtifexOptions>>().Value.Provider;
            return sp.GetRequiredKeyedService<DeviceProvider>(name);
        });
        services.TryAddSingleton<ICollectives>(AmbientCollectives.Instance);
        services.TryAddSingleton(static sp => new DataParallel(sp.GetRequiredService<ICollectives>()));
        services.TryAddSingleton(static sp => new DistributedMetrics(sp.GetRequiredService<ICollectives>()));
        services.TryAddSingleton(static sp => new DeviceMeshManager(sp.GetRequiredService<DeviceProvider>()));
        return services;
    }
}
