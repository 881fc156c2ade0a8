using Artifex.TorchSharp.Build;

namespace Artifex.TorchSharp.Tests;

/// <summary>The ELF change the build makes to libLibTorchSharp.so, on copies of the package's own file.</summary>
public sealed class WeakenVersionNeedTests
{
    [Fact]
    public void The_package_library_needs_the_anchor_version_for_one_unrelocated_symbol()
    {
        var elf = new WeakenVersionNeed.ElfFile(File.ReadAllBytes(NativeFiles.PackageLibrary));
        WeakenVersionNeed.ElfFile.VersionNeed[] needs = [.. elf.VersionNeeds()];

        // readelf -V: 5 libraries, 28 versions, among them glibc's oldest x86-64 version and the anchor, not weak.
        Assert.Equal(28, needs.Length);
        Assert.Contains(needs, n => string.Equals(n.Name, "GLIBC_2.2.5", StringComparison.Ordinal));
        WeakenVersionNeed.ElfFile.VersionNeed anchor = Assert.Single(needs, n => string.Equals(n.Name, NativeFiles.AnchorVersion, StringComparison.Ordinal));
        Assert.Equal(0, anchor.Flags & WeakenVersionNeed.ElfFile.VersionFlagWeak);
        IDictionary<long, string> symbols = elf.SymbolsOfVersion(anchor.Index);
        Assert.Equal(["_ZSt21ios_base_library_initv"], symbols.Values);
        Assert.DoesNotContain(symbols.Keys.Single(), elf.RelocatedSymbols());
    }

    [Fact]
    public void Weakening_changes_one_16_bit_field_and_a_second_time_nothing()
    {
        string copy = NativeFiles.CopyOfPackageLibrary();
        try
        {
            byte[] before = File.ReadAllBytes(copy);
            DateTime written = File.GetLastWriteTimeUtc(copy);
            WeakenVersionNeed.ElfFile.VersionNeed need = NativeFiles.Need(copy);

            Assert.Equal(WeakenVersionNeed.Outcome.Weakened, WeakenVersionNeed.Weaken(copy, NativeFiles.AnchorVersion, out string detail));

            byte[] after = File.ReadAllBytes(copy);
            Assert.All(NativeFiles.DifferingOffsets(before, after), offset => Assert.InRange(offset, need.FlagsOffset, need.FlagsOffset + 1));
            Assert.Equal(need.Flags | WeakenVersionNeed.ElfFile.VersionFlagWeak, NativeFiles.Need(copy).Flags);
            Assert.Equal(need.Flags | WeakenVersionNeed.ElfFile.VersionFlagWeak, BitConverter.ToUInt16(after, (int)need.FlagsOffset));
            Assert.Contains(copy, detail, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', detail);
            // The kept timestamp lets an incremental build's copy step see the output copy as up to date.
            Assert.Equal(written, File.GetLastWriteTimeUtc(copy));
            Assert.Equal([copy], Directory.GetFiles(Path.GetDirectoryName(copy)!));

            Assert.Equal(WeakenVersionNeed.Outcome.AlreadyWeak, WeakenVersionNeed.Weaken(copy, NativeFiles.AnchorVersion, out _));
            Assert.Equal(after, File.ReadAllBytes(copy));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, true);
        }
    }

    [Theory]
    [InlineData("GLIBC_2.2.5")] // memcpy, malloc, ...
    [InlineData("GLIBCXX_3.4")] // std::ostream and the rest of libstdc++'s oldest interface
    public void A_version_that_relocations_use_is_refused_and_the_file_left_as_it_is(string version)
    {
        string copy = NativeFiles.CopyOfPackageLibrary();
        try
        {
            byte[] before = File.ReadAllBytes(copy);

            Assert.Equal(WeakenVersionNeed.Outcome.Refused, WeakenVersionNeed.Weaken(copy, version, out string detail));

            Assert.Equal(before, File.ReadAllBytes(copy));
            Assert.Contains(version, detail, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', detail);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, true);
        }
    }

    [Fact]
    public void A_version_the_library_does_not_need_is_left_alone()
    {
        string copy = NativeFiles.CopyOfPackageLibrary();
        try
        {
            byte[] before = File.ReadAllBytes(copy);

            Assert.Equal(WeakenVersionNeed.Outcome.NotNeeded, WeakenVersionNeed.Weaken(copy, "GLIBCXX_99.0", out _));

            Assert.Equal(before, File.ReadAllBytes(copy));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, true);
        }
    }

    [Fact]
    public void A_file_that_is_not_a_whole_ELF64_file_is_rejected()
    {
        byte[] library = File.ReadAllBytes(NativeFiles.PackageLibrary);

        Assert.Throws<InvalidDataException>(() => new WeakenVersionNeed.ElfFile("#!/bin/sh\nexit 0\n"u8.ToArray()));
        // Cut before the section headers, which sit at the end of the file.
        Assert.Throws<InvalidDataException>(() => new WeakenVersionNeed.ElfFile(library[..(library.Length / 2)]));
    }

    [Fact]
    public void The_system_libstdcxx_is_read_for_the_versions_it_defines()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The build step reads the system's libstdc++ on Linux only.");
        Assert.SkipWhen(NativeFiles.SystemLibStdCxx is null, "No libstdc++ at the places the build step looks.");

        ISet<string> versions = new WeakenVersionNeed.ElfFile(File.ReadAllBytes(NativeFiles.SystemLibStdCxx!)).DefinedVersions();

        Assert.Contains("GLIBCXX_3.4", versions);
        Assert.Contains("CXXABI_1.3", versions);
        Assert.DoesNotContain("libstdc++.so.6", versions);
        Assert.DoesNotContain("GLIBCXX_99.0", versions);
    }

    [Fact]
    public void The_build_weakened_the_output_copy_exactly_where_the_system_libstdcxx_lacks_the_version()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The build step runs on Linux only.");
        bool systemHasIt = NativeFiles.SystemLibStdCxx is { } system && WeakenVersionNeed.Defines(system, NativeFiles.AnchorVersion);
        WeakenVersionNeed.ElfFile.VersionNeed need = NativeFiles.Need(NativeFiles.PackageLibrary);

        long[] changed = NativeFiles.DifferingOffsets(File.ReadAllBytes(NativeFiles.PackageLibrary), File.ReadAllBytes(NativeFiles.OutputLibrary));

        Assert.Equal(0, need.Flags & WeakenVersionNeed.ElfFile.VersionFlagWeak);
        if (systemHasIt)
        {
            Assert.Empty(changed);
        }
        else
        {
            Assert.Equal([need.FlagsOffset], changed);
            Assert.NotEqual(0, NativeFiles.Need(NativeFiles.OutputLibrary).Flags & WeakenVersionNeed.ElfFile.VersionFlagWeak);
        }
    }
}
