using Artifex.Cpu;
using Artifex.Cuda;
using Artifex.Mpi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Artifex.Samples.Hosting;

/// <summary>The sample: builds the host from configuration, then runs a few data-parallel steps with the provider it chose.</summary>
public static class HostingApp
{
    /// <summary>The exit code for a configuration that cannot be used.</summary>
    public const int ConfigurationErrorExitCode = 2;

    /// <summary>Runs the sample.</summary>
    /// <param name="args">Command-line switches (<c>--Artifex:Provider=cpu</c>), read after appsettings.json and environment variables.</param>
    /// <param name="output">Where the steps are reported (by process 0 only, under <c>mpirun</c>).</param>
    /// <param name="error">Where a configuration error goes.</param>
    /// <returns>0; or <see cref="ConfigurationErrorExitCode"/> after one line <c>Configuration error: …</c> naming the key and the value.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        // appsettings.json, then environment variables (Artifex__Provider=cpu), then switches (--Artifex:Provider=cpu).
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        string? unreadable = ConfigurationCheck.FindUnreadable(builder.Configuration);
        if (unreadable is not null)
        {
            return Refuse(error, unreadable);
        }

        builder.Services.AddArtifex(builder.Configuration).AddArtifexCpu(builder.Configuration).AddArtifexCuda(builder.Configuration).AddArtifexMpi(builder.Configuration);
        builder.Services.AddSingleton<TrainingSteps>();
        using IHost host = builder.Build();
        try
        {
            return host.Services.GetRequiredService<TrainingSteps>().Run(steps: 5, output);
        }
        catch (OptionsValidationException e)
        {
            return Refuse(error, e.Message);
        }
    }

    private static int Refuse(TextWriter error, string message)
    {
        error.WriteLine($"Configuration error: {message.ReplaceLineEndings(" ")}");
        return ConfigurationErrorExitCode;
    }
}
