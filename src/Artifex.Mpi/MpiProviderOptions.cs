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
    /// Gets or sets the collective timeout (<see cref="DeviceProvider.CollectiveTimeout"/>): how long local participants
    /// wait for each other, and in a multi-process job also how long one MPI call may take (it is the job's
    /// <see cref="MpiWatchdog.Timeout"/>). Null (the default) means the contract's 60 s in one process, and in a
    /// multi-process job the watchdog's setting, <c>ARTIFEX_MPI_COLLECTIVE_TIMEOUT_S</c> (300 s; 0 for none).
    /// </summary>
    public TimeSpan? CollectiveTimeout { get; set; }
}
