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

    /// <summary>
    /// Gets or sets how long local participants wait for each other in a collective. Null (the default) means the
    /// contract's 60 s in one process, and in a multi-process job the MPI watchdog's timeout if that is longer: a sibling
    /// may legitimately be inside another group's MPI call for as long as MPI may take. Waits inside MPI are bounded by
    /// the watchdog.
    /// </summary>
    public TimeSpan? CollectiveTimeout { get; set; }
}
