using Artifex.Mpi.Worker;

// Usage: dotnet Artifex.Mpi.Worker.dll smoke|throw|hang|singleton
// smoke:     every collective and element type against locally computed values, a data×model split; "SMOKE PASS".
// throw:     rank 1 throws an unhandled exception while the others wait in an all-reduce; the job exits 17.
// hang:      rank 1 skips an all-reduce; the watchdog (2 s) aborts the job with exit code 42.
// singleton: started without mpirun, a world of one runs the smoke checks; "SINGLETON PASS".
return args.Length == 1 ? Scenarios.Run(args[0]) : Scenarios.Usage();
