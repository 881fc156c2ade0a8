namespace Artifex.Mpi;

/// <summary>Options of the MPI provider, bound from <c>Artifex:Mpi</c>.</summary>
public sealed class MpiProviderOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Artifex:Mpi";

    /// <summary>The environment variable that sets <see cref="LocalDeviceCount"/> when it is null.</summary>
    public const string LocalDevicesVariable = "ARTIFEX_LOCAL_DEVICES";

    /// <summary>Gets or sets how many emulated CPU devices each process owns (the same on every process); null reads <c>ARTIFEX_LOCAL_DEVICES</c>, default 1.</summary>
    public int? LocalDeviceCount { get; set; }

    /// <summary>Gets or sets how long local participants wait for each other in a collective (default 60 s). Waits inside MPI are bounded by the MPI watchdog instead.</summary>
    public TimeSpan CollectiveTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
