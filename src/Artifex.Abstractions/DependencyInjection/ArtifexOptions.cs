namespace Artifex;

/// <summary>Options of <see cref="ArtifexServiceCollectionExtensions.AddArtifex(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{ArtifexOptions}?)"/>, bound from the <c>Artifex</c> configuration section.</summary>
public sealed class ArtifexOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Artifex";

    /// <summary>Gets or sets the platform name of the default provider (<c>Artifex:Provider</c>), e.g. <c>"cpu"</c> or <c>"cuda"</c>. Default <c>"cpu"</c>.</summary>
    public string Provider { get; set; } = "cpu";
}
