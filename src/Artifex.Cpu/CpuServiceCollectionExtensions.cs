using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Artifex.Cpu;

/// <summary>Registers the CPU provider as a keyed <see cref="DeviceProvider"/> under <c>"cpu"</c>.</summary>
public static class CpuServiceCollectionExtensions
{
    /// <summary>Registers the CPU provider (keyed <c>"cpu"</c>) with options; an existing <c>"cpu"</c> registration wins.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifexCpu(this IServiceCollection services, Action<CpuProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<CpuProviderOptions> options = services.AddOptions<CpuProviderOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(services, options);
    }

    /// <summary>Registers the CPU provider with options bound from <c>Artifex:Cpu</c> of <paramref name="configuration"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The root configuration.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddArtifexCpu(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, services.AddOptions<CpuProviderOptions>().Bind(configuration.GetSection(CpuProviderOptions.SectionName)));
    }

    private static IServiceCollection AddCore(IServiceCollection services, OptionsBuilder<CpuProviderOptions> options)
    {
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CpuProviderOptions>, CpuProviderOptionsValidator>());
        services.AddArtifexProviderRegistration(new ArtifexProviderRegistration(CpuProvider.PlatformName, static () => null));
        services.TryAddKeyedSingleton<DeviceProvider>(CpuProvider.PlatformName, static (sp, _) =>
            new CpuProvider(sp.GetRequiredService<IOptions<CpuProviderOptions>>().Value, sp.GetService<ILogger<CpuProvider>>()));
        return services;
    }
}
