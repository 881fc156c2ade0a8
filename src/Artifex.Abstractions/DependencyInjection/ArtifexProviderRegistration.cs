namespace Artifex;

/// <summary>
/// Announces a provider registered under a platform name, so that <c>AddArtifex</c> can list the registered providers
/// and say why a chosen one cannot start. Provider assemblies add one from their <c>AddArtifex…</c> method.
/// </summary>
public sealed class ArtifexProviderRegistration
{
    private readonly Func<string?> _unavailableReason;

    /// <summary>Creates a registration.</summary>
    /// <param name="name">The platform name, the key of the provider's keyed service.</param>
    /// <param name="unavailableReason">Returns why the provider cannot start on this machine, or <see langword="null"/> when it can. Must not throw.</param>
    public ArtifexProviderRegistration(string name, Func<string?> unavailableReason)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(unavailableReason);
        Name = name;
        _unavailableReason = unavailableReason;
    }

    /// <summary>Gets the platform name.</summary>
    public string Name { get; }

    /// <summary>Gets why the provider cannot start here, or <see langword="null"/>.</summary>
    public string? UnavailableReason => _unavailableReason();
}
