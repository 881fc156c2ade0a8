using Microsoft.Extensions.Options;

namespace Artifex;

/// <summary>Checks at start that the chosen provider is registered and can run on this machine.</summary>
internal sealed class ArtifexOptionsValidator(IEnumerable<ArtifexProviderRegistration> registrations) : IValidateOptions<ArtifexOptions>
{
    public ValidateOptionsResult Validate(string? name, ArtifexOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string[] registered = [.. registrations.Select(static r => r.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (string.IsNullOrWhiteSpace(options.Provider))
        {
            return ValidateOptionsResult.Fail($"Artifex:Provider is empty. Registered providers: {Describe(registered)}.");
        }

        ArtifexProviderRegistration? chosen = registrations.FirstOrDefault(r => string.Equals(r.Name, options.Provider, StringComparison.Ordinal));
        if (chosen is null)
        {
            return ValidateOptionsResult.Fail(
                $"Unknown Artifex provider '{options.Provider}' (Artifex:Provider). Registered providers: {Describe(registered)}. Register one with AddArtifexCpu() or AddArtifexCuda().");
        }

        string? reason = chosen.UnavailableReason;
        return reason is null
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Artifex:Provider is '{options.Provider}', but {reason} To fall back, set Artifex:Provider=cpu (environment variable Artifex__Provider=cpu, or --Artifex:Provider=cpu).");
    }

    private static string Describe(string[] names) => names.Length == 0 ? "none" : string.Join(", ", names);
}
