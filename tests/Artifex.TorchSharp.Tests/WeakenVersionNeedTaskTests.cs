using Artifex.TorchSharp.Build;
using Microsoft.Build.Utilities;

namespace Artifex.TorchSharp.Tests;

/// <summary>The MSBuild task as the build runs it: when it changes a file, and what it says.</summary>
public sealed class WeakenVersionNeedTaskTests
{
    [Fact]
    public void Without_a_system_libstdcxx_it_weakens_once_and_says_so_in_one_line()
    {
        string copy = NativeFiles.CopyOfPackageLibrary();
        try
        {
            var engine = new RecordingBuildEngine();
            WeakenVersionNeed task = Task(engine, copy, NativeFiles.AnchorVersion, Path.Combine(Path.GetDirectoryName(copy)!, "no-libstdc++.so.6"));

            Assert.True(task.Execute());
            string shown = Assert.Single(engine.ShownMessages);
            Assert.Contains(NativeFiles.AnchorVersion, shown, StringComparison.Ordinal);
            Assert.Contains(copy, shown, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', shown);
            Assert.NotEqual(0, NativeFiles.Need(copy).Flags & WeakenVersionNeed.ElfFile.VersionFlagWeak);

            Assert.True(task.Execute());
            Assert.Single(engine.ShownMessages);
            Assert.Empty(engine.Warnings);
            Assert.Empty(engine.Errors);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, true);
        }
    }

    [Fact]
    public void Where_the_system_libstdcxx_has_the_version_it_changes_nothing_unless_asked_to()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The build step reads the system's libstdc++ on Linux only.");
        Assert.SkipWhen(NativeFiles.SystemLibStdCxx is null, "No libstdc++ at the places the build step looks.");
        string copy = NativeFiles.CopyOfPackageLibrary();
        try
        {
            // A version every libstdc++ has and the library's relocations use: left alone because the system has it,
            // refused (with a warning) when asked to weaken it anyway.
            const string Version = "GLIBCXX_3.4";
            byte[] before = File.ReadAllBytes(copy);
            var engine = new RecordingBuildEngine();

            Assert.True(Task(engine, copy, Version, NativeFiles.SystemLibStdCxx!).Execute());
            Assert.Empty(engine.ShownMessages);
            Assert.Empty(engine.Warnings);

            WeakenVersionNeed always = Task(engine, copy, Version, NativeFiles.SystemLibStdCxx!);
            always.EvenIfTheSystemHasIt = true;
            Assert.True(always.Execute());
            BuildWarning(Assert.Single(engine.Warnings), copy);
            Assert.Equal(before, File.ReadAllBytes(copy));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, true);
        }
    }

    [Fact]
    public void A_library_that_is_not_an_ELF64_file_gets_a_warning_not_a_failed_build()
    {
        string folder = Directory.CreateTempSubdirectory("artifex-torchsharp-").FullName;
        try
        {
            string library = Path.Combine(folder, "libLibTorchSharp.so");
            File.WriteAllText(library, "not a shared library");
            var engine = new RecordingBuildEngine();

            Assert.True(Task(engine, library, NativeFiles.AnchorVersion).Execute());

            BuildWarning(Assert.Single(engine.Warnings), library);
            Assert.Empty(engine.Errors);
            Assert.Equal("not a shared library", File.ReadAllText(library));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void A_library_that_is_not_there_is_skipped()
    {
        var engine = new RecordingBuildEngine();

        Assert.True(Task(engine, Path.Combine(Path.GetTempPath(), "artifex-no-such-folder", "libLibTorchSharp.so"), NativeFiles.AnchorVersion).Execute());

        Assert.Empty(engine.ShownMessages);
        Assert.Empty(engine.Warnings);
    }

    private static WeakenVersionNeed Task(RecordingBuildEngine engine, string library, string version, params string[] systemLibraries) => new()
    {
        BuildEngine = engine,
        Libraries = [new TaskItem(library)],
        Version = version,
        SystemLibraries = [.. systemLibraries.Select(path => new TaskItem(path))],
    };

    private static void BuildWarning(Microsoft.Build.Framework.BuildWarningEventArgs warning, string library)
    {
        Assert.Equal(WeakenVersionNeed.UnchangedCode, warning.Code);
        Assert.Equal(library, warning.File);
        Assert.DoesNotContain('\n', warning.Message ?? string.Empty);
    }
}
