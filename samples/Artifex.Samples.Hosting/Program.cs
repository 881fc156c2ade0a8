using Artifex;
using Artifex.Cpu;
using Artifex.Cuda;
using Artifex.Mpi;
using Artifex.Samples.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// appsettings.json, then environment variables (Artifex__Provider=cpu), then switches (--Artifex:Provider=cpu).
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddArtifex(builder.Configuration).AddArtifexCpu(builder.Configuration).AddArtifexCuda(builder.Configuration).AddArtifexMpi(builder.Configuration);
builder.Services.AddSingleton<TrainingSteps>();
using IHost host = builder.Build();
try
{
    return host.Services.GetRequiredService<TrainingSteps>().Run(steps: 5);
}
catch (OptionsValidationException error)
{
    Console.Error.WriteLine($"Configuration error: {error.Message}");
    return 2;
}
