namespace Artifex.Mpi.Worker;

/// <summary>The scenarios the MPI tests launch, by name.</summary>
internal static unsafe class Scenarios
{
    public static int Run(string scenario) => scenario switch
    {
        "smoke" => new SmokeChecks().Run("SMOKE PASS"),
        "singleton" => Singleton(),
        "throw" => Throw(),
        "hang" => Hang(),
        "provider" => new ProviderChecks().Run(),
        "provider-throw" => ProviderThrow(),
        "provider-mixed" => MixedGroupChecks.Run(),
        "provider-mismatch" => ProviderMismatch(),
        "provider-campaign" => new FaultCampaign().Run(),
        "provider-shardmap" => new ShardMapChecks().Run(),
        "provider-overlap" => new OverlapChecks().Run(),
        _ => Usage(),
    };

    public static int Usage()
    {
        Console.Error.WriteLine("usage: Artifex.Mpi.Worker smoke|throw|hang|singleton|provider|provider-throw|provider-mixed|provider-mismatch|provider-campaign|provider-shardmap|provider-overlap");
        return 2;
    }

    /// <summary>A participant on the last process throws inside an SPMD region: the provider aborts the whole job (17).</summary>
    private static int ProviderThrow()
    {
        using var provider = new MpiProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", provider.Devices.Count));
        provider.RunSpmd(mesh, context =>
        {
            if (context.DeviceIndex == provider.Devices.Count - 1)
            {
                throw new InvalidOperationException("participant failure injected by the provider-throw scenario");
            }

            using DeviceArray<float> value = DeviceArray.Allocate<float>(context.Device, 4);
            value.CopyFrom([1, 2, 3, 4]);
            context.AllReduce(value, value, ReduceOp.Sum, context.GetAxisGroup("data"));
        });
        Console.Error.WriteLine("FAIL: the region returned although a participant threw");
        return 1;
    }

    /// <summary>
    /// Processes that ask for different local device counts are refused on every process, with both counts named and
    /// nothing left to clean up; a malformed <c>ARTIFEX_LOCAL_DEVICES</c> is refused with its value named.
    /// </summary>
    private static int ProviderMismatch()
    {
        MpiRuntime.Initialize();
        MpiCommunicator world = MpiRuntime.World;
        try
        {
            using var provider = new MpiProvider(world.Rank + 1);
            Console.Error.WriteLine($"FAIL: rank {world.Rank}: a provider with {world.Rank + 1} local devices started although the others differ");
            return 1;
        }
        catch (InvalidOperationException error) when (error.Message.Contains($"range from 1 to {world.Size}", StringComparison.Ordinal))
        {
            Console.WriteLine($"rank {world.Rank}/{world.Size} MISMATCH REFUSED: {error.Message}");
        }

        Environment.SetEnvironmentVariable(MpiProviderOptions.LocalDevicesVariable, "two");
        try
        {
            using var provider = new MpiProvider();
            Console.Error.WriteLine($"FAIL: rank {world.Rank}: a provider started with {MpiProviderOptions.LocalDevicesVariable}=two");
            return 1;
        }
        catch (InvalidOperationException error) when (error.Message.Contains("'two'", StringComparison.Ordinal))
        {
            Console.WriteLine($"rank {world.Rank}/{world.Size} MALFORMED REFUSED: {error.Message}");
        }

        // After both refusals the processes still agree and can start a provider together.
        Environment.SetEnvironmentVariable(MpiProviderOptions.LocalDevicesVariable, "2");
        using var agreed = new MpiProvider();
        Console.WriteLine($"rank {world.Rank}/{world.Size} AGREED {agreed.Devices.Count}");
        return 0;
    }

    private static int Singleton()
    {
        if (MpiRuntime.LaunchedByMpirun)
        {
            Console.Error.WriteLine("the singleton scenario must run without mpirun");
            return 2;
        }

        return new SmokeChecks().Run("SINGLETON PASS");
    }

    /// <summary>Rank 1 throws while the others wait in an all-reduce: the unhandled-exception hook aborts the job (17).</summary>
    private static int Throw()
    {
        MpiRuntime.Initialize();
        MpiCommunicator world = MpiRuntime.World;
        if (world.Size < 2)
        {
            Console.Error.WriteLine("the throw scenario needs 2 ranks or more");
            return 2;
        }

        if (world.Rank == 1)
        {
            Thread.Sleep(200); // let the others reach the all-reduce first
            throw new InvalidOperationException("deliberate failure on rank 1 (throw scenario)");
        }

        long value = 1;
        world.AllReduce(null, &value, 1, typeof(long), ReduceOp.Sum);
        Console.Error.WriteLine($"rank {world.Rank}: the all-reduce completed without rank 1");
        return 3;
    }

    /// <summary>Rank 1 skips an all-reduce the others enter: the watchdog aborts the job (42) and names the collective.</summary>
    private static int Hang()
    {
        MpiWatchdog.Timeout = TimeSpan.FromSeconds(2);
        MpiRuntime.Initialize();
        MpiCommunicator world = MpiRuntime.World;
        if (world.Size < 2)
        {
            Console.Error.WriteLine("the hang scenario needs 2 ranks or more");
            return 2;
        }

        if (world.Rank == 1)
        {
            Thread.Sleep(TimeSpan.FromSeconds(60)); // goes on with "other work"; the abort ends it
            Console.Error.WriteLine("rank 1: the watchdog did not abort the job");
            return 3;
        }

        long value = 1;
        world.AllReduce(null, &value, 1, typeof(long), ReduceOp.Sum);
        Console.Error.WriteLine($"rank {world.Rank}: the all-reduce completed without rank 1");
        return 3;
    }
}
