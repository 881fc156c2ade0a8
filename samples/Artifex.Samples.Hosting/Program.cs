using Artifex.Samples.Hosting;

return HostingApp.Run(args, Console.Out, Console.Error);
