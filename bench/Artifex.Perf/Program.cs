using Artifex.Perf;

return PerfApp.Run(args, Console.Out, Console.Error);
