// An MSBuild task that lets TorchSharp's native library load against an older libstdc++ (Debian 12 has GLIBCXX_3.4.30).
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so was linked by GCC 13 or later, whose <iostream> makes every object refer
// to std::ios_base_library_init(), a symbol versioned GLIBCXX_3.4.32 that exists only so that the link picks a new
// enough libstdc++. Nothing calls it and no relocation refers to it, but the version need alone makes the dynamic loader
// refuse the library ("version `GLIBCXX_3.4.32' not found"). Marking that one entry of the library's version needs
// (.gnu.version_r) weak (VER_FLG_WEAK) lets the loader accept its absence: a change of one 16-bit field.
//
// Safety: the flag is set only when no relocation refers to a dynamic symbol of that version, so the loader never has to
// look such a symbol up; otherwise the library is left as it is and the task warns. The file is rewritten through a
// temporary copy and a rename, so a hard or symbolic link into the NuGet cache is replaced rather than written through.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory when a project that uses Artifex.TorchSharp builds
// (against .NET Standard 2.0, without implicit usings: hence the explicit usings and the older APIs), and into
// Artifex.TorchSharp.Tests, which tests this very code. Part of Artifex.NET; MIT licence.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;

namespace Artifex.TorchSharp.Build;

/// <summary>
/// Marks one version need of ELF shared libraries weak where no relocation uses a symbol of that version, unless the
/// system library that defines such versions already has it.
/// </summary>
public sealed class WeakenVersionNeed : Microsoft.Build.Utilities.Task
{
    /// <summary>
    /// The warning code of a library that needs the version but was left as it is: its relocations use the version, or
    /// it could not be read or written.
    /// </summary>
    public const string UnchangedCode = "ARTIFEX0001";

    /// <summary>Gets or sets the libraries to change in place (copies in an output folder); missing files are skipped.</summary>
    [Required]
    public ITaskItem[] Libraries { get; set; } = [];

    /// <summary>Gets or sets the needed version to make weak, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
    [Required]
    public string Version { get; set; } = "";

    /// <summary>Gets or sets where the system library that defines the version may be; the first that exists is read.</summary>
    public ITaskItem[] SystemLibraries { get; set; } = [];

    /// <summary>
    /// Gets or sets whether to weaken the need even where the system library defines the version: for output that will
    /// run on another machine (the weak need changes nothing where the version exists).
    /// </summary>
    public bool EvenIfTheSystemHasIt { get; set; }

    /// <summary>What <see cref="Weaken"/> did.</summary>
    internal enum Outcome
    {
        /// <summary>The library does not need the version.</summary>
        NotNeeded,

        /// <summary>The need was weak already.</summary>
        AlreadyWeak,

        /// <summary>The need is now weak.</summary>
        Weakened,

        /// <summary>A relocation uses a symbol of the version; the library is unchanged.</summary>
        Refused,
    }

    /// <inheritdoc/>
    public override bool Execute()
    {
        if (!EvenIfTheSystemHasIt && FindSystemLibrary() is { } system && SystemDefines(system))
        {
            Log.LogMessage(MessageImportance.Low, $"{system} defines {Version}: the libraries are left as they are.");
            return true;
        }

        foreach (ITaskItem library in Libraries)
        {
            string path = library.GetMetadata("FullPath");
            if (!File.Exists(path))
            {
                Log.LogMessage(MessageImportance.Low, $"{path} does not exist: nothing to weaken.");
                continue;
            }

            try
            {
                Outcome outcome = Weaken(path, Version, out string detail);
                switch (outcome)
                {
                    case Outcome.Weakened:
                        Log.LogMessage(MessageImportance.High, detail);
                        break;
                    case Outcome.Refused:
                        Log.LogWarning(null, UnchangedCode, null, path, 0, 0, 0, 0, detail);
                        break;
                    default:
                        Log.LogMessage(MessageImportance.Low, detail);
                        break;
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                // Warn rather than fail the build: the output still runs where the system's libstdc++ is new enough.
                Log.LogWarning(null, UnchangedCode, null, path, 0, 0, 0, 0, $"{Version} could not be made weak in {path}: {e.Message}");
            }
        }

        return !Log.HasLoggedErrors;
    }

    /// <summary>Makes the need of <paramref name="version"/> weak in a library, in place, where that is safe.</summary>
    /// <param name="path">The library.</param>
    /// <param name="version">The needed version, e.g. <c>GLIBCXX_3.4.32</c>.</param>
    /// <param name="detail">One line that says what was done, or why not.</param>
    /// <returns>What was done.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed ELF64 little-endian file.</exception>
    internal static Outcome Weaken(string path, string version, out string detail)
    {
        var elf = new ElfFile(File.ReadAllBytes(path));
        ElfFile.VersionNeed? need = elf.VersionNeeds().FirstOrDefault(n => string.Equals(n.Name, version, StringComparison.Ordinal));
        if (need is null)
        {
            detail = $"{path} does not need {version}: nothing to weaken.";
            return Outcome.NotNeeded;
        }

        if ((need.Flags & ElfFile.VersionFlagWeak) != 0)
        {
            detail = $"{version} is already weak in {path}.";
            return Outcome.AlreadyWeak;
        }

        IDictionary<long, string> symbols = elf.SymbolsOfVersion(need.Index);
        ISet<long> relocated = elf.RelocatedSymbols();
        string[] used = [.. symbols.Where(s => relocated.Contains(s.Key)).Select(s => s.Value)];
        if (used.Length > 0)
        {
            detail = $"{path} was not changed: its relocations use {version} symbols ({string.Join(", ", used)}), which a " +
                     $"libstdc++ without {version} lacks; it will load only where the system's libstdc++ has {version}.";
            return Outcome.Refused;
        }

        WriteFlags(path, need.FlagsOffset, (ushort)(need.Flags | ElfFile.VersionFlagWeak));
        string names = symbols.Count == 0 ? "none" : string.Join(", ", symbols.Values);
        detail = $"Artifex.TorchSharp: {version} made weak in {path} so that it loads with an older libstdc++ " +
                 $"(symbols of that version, none relocated: {names}).";
        return Outcome.Weakened;
    }

    /// <summary>Whether an ELF file defines a symbol version (its .gnu.version_d), e.g. a libstdc++ and GLIBCXX_3.4.32.</summary>
    /// <param name="path">The library.</param>
    /// <param name="version">The version.</param>
    /// <returns><see langword="true"/> when the file defines the version.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed ELF64 little-endian file.</exception>
    internal static bool Defines(string path, string version) =>
        new ElfFile(File.ReadAllBytes(path)).DefinedVersions().Contains(version);

    /// <summary>Writes the flags through a temporary copy renamed over the library, keeping its mode and timestamp.</summary>
    /// <remarks>
    /// The rename replaces a link into the NuGet cache instead of writing through it. The kept timestamp (with the
    /// unchanged size) makes the next incremental build's copy step see the file as up to date, so it is not copied
    /// and weakened again on every build.
    /// </remarks>
    private static void WriteFlags(string path, long offset, ushort flags)
    {
        string temporary = path + ".weakening";
        DateTime written = File.GetLastWriteTimeUtc(path);
        File.Copy(path, temporary, true);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.Write))
            {
                stream.Position = offset;
                stream.WriteByte((byte)flags);
                stream.WriteByte((byte)(flags >> 8));
            }

            File.SetLastWriteTimeUtc(temporary, written);
            File.Replace(temporary, path, null);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private string? FindSystemLibrary() =>
        SystemLibraries.Select(item => item.ItemSpec).FirstOrDefault(File.Exists);

    private bool SystemDefines(string system)
    {
        try
        {
            return Defines(system, Version);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            // Unknown: weaken anyway, which is harmless where the version exists.
            Log.LogMessage(MessageImportance.Low, $"{system} could not be read ({e.Message}); assuming it lacks {Version}.");
            return false;
        }
    }

    /// <summary>
    /// The parts of an ELF64 little-endian file this task reads, found through its section headers: symbol versions
    /// needed (.gnu.version_r) and defined (.gnu.version_d), the version of each dynamic symbol (.gnu.version) and the
    /// symbols that relocations refer to.
    /// </summary>
    internal sealed class ElfFile
    {
        /// <summary>VER_FLG_WEAK: the loader accepts the absence of a needed version.</summary>
        internal const ushort VersionFlagWeak = 0x2;

        private const uint SectionRel = 9;
        private const uint SectionRela = 4;
        private const uint SectionDynamicSymbols = 11;
        private const uint SectionVersionDefinitions = 0x6FFFFFFD;
        private const uint SectionVersionNeeds = 0x6FFFFFFE;
        private const uint SectionSymbolVersions = 0x6FFFFFFF;
        private const ulong SectionFlagAlloc = 0x2;
        private const ushort VersionFlagBase = 0x1;
        private const int SymbolSize = 24;

        private readonly byte[] _data;
        private readonly Section[] _sections;

        /// <summary>Initializes a new instance of the <see cref="ElfFile"/> class over a file's bytes.</summary>
        /// <param name="data">The whole file.</param>
        /// <exception cref="InvalidDataException">Not an ELF64 little-endian file, or a header points outside it.</exception>
        internal ElfFile(byte[] data)
        {
            _data = data;
            if (data.Length < 64 || data[0] != 0x7F || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
            {
                throw new InvalidDataException("not an ELF file");
            }

            if (data[4] != 2 || data[5] != 1)
            {
                throw new InvalidDataException("not a 64-bit little-endian ELF file");
            }

            long headers = Offset(U64(0x28));
            int size = U16(0x3A);
            long count = U16(0x3C);
            if (headers == 0 || size < 64)
            {
                throw new InvalidDataException("the file has no section headers");
            }

            if (count == 0)
            {
                // More sections than e_shnum can hold: the count is in the first header's sh_size.
                count = Offset(U64(headers + 0x20));
            }

            _sections = new Section[count];
            for (long i = 0; i < count; i++)
            {
                long at = headers + (i * size);
                _sections[i] = new Section(U32(at + 4), U64(at + 8), U64(at + 0x18), U64(at + 0x20), (int)U32(at + 0x28), U32(at + 0x2C));
            }
        }

        /// <summary>The versions this file needs from other libraries, in file order.</summary>
        /// <returns>One entry per needed version.</returns>
        internal IEnumerable<VersionNeed> VersionNeeds()
        {
            int index = IndexOf(SectionVersionNeeds);
            if (index < 0)
            {
                yield break;
            }

            Section section = _sections[index];
            long at = Start(section);
            for (uint entry = 0; entry < section.Info; entry++)
            {
                int auxiliaries = U16(at + 2);
                long auxiliary = at + U32(at + 8);
                for (int i = 0; i < auxiliaries; i++)
                {
                    yield return new VersionNeed(ReadString(section.Link, U32(auxiliary + 8)), U16(auxiliary + 6), auxiliary + 4, (ushort)U16(auxiliary + 4));
                    auxiliary += U32(auxiliary + 12);
                }

                at += U32(at + 12);
            }
        }

        /// <summary>The versions this file defines (without the entry that names the file itself).</summary>
        /// <returns>The version names.</returns>
        internal ISet<string> DefinedVersions()
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            int index = IndexOf(SectionVersionDefinitions);
            if (index < 0)
            {
                return names;
            }

            Section section = _sections[index];
            long at = Start(section);
            for (uint entry = 0; entry < section.Info; entry++)
            {
                if ((U16(at + 2) & VersionFlagBase) == 0)
                {
                    names.Add(ReadString(section.Link, U32(at + U32(at + 12))));
                }

                at += U32(at + 16);
            }

            return names;
        }

        /// <summary>The dynamic symbols whose version index (hidden bit masked) is <paramref name="version"/>.</summary>
        /// <param name="version">A version index, as in <see cref="VersionNeed.Index"/>.</param>
        /// <returns>Symbol index to name.</returns>
        internal IDictionary<long, string> SymbolsOfVersion(int version)
        {
            var found = new SortedDictionary<long, string>();
            int symbols = IndexOf(SectionDynamicSymbols);
            int versions = IndexOf(SectionSymbolVersions);
            if (symbols < 0 || versions < 0)
            {
                return found;
            }

            Section table = _sections[symbols];
            long start = Start(table);
            long versionStart = Start(_sections[versions]);
            long count = Length(table) / SymbolSize;
            for (long i = 0; i < count; i++)
            {
                if ((U16(versionStart + (2 * i)) & 0x7FFF) == version)
                {
                    found[i] = ReadString(table.Link, U32(start + (i * SymbolSize)));
                }
            }

            return found;
        }

        /// <summary>
        /// The dynamic symbol indices that some relocation refers to: the entries of every REL or RELA section that the
        /// loader processes (allocated) or that refers to the dynamic symbol table.
        /// </summary>
        /// <returns>The symbol indices.</returns>
        internal ISet<long> RelocatedSymbols()
        {
            var used = new HashSet<long>();
            int symbols = IndexOf(SectionDynamicSymbols);
            foreach (Section section in _sections)
            {
                bool relocations = section.Type is SectionRel or SectionRela;
                if (!relocations || (section.Link != symbols && (section.Flags & SectionFlagAlloc) == 0))
                {
                    continue;
                }

                int size = section.Type == SectionRela ? 24 : 16;
                long start = Start(section);
                for (long entry = 0; entry < Length(section) / size; entry++)
                {
                    used.Add((long)(U64(start + (entry * size) + 8) >> 32));
                }
            }

            return used;
        }

        private int IndexOf(uint type) => Array.FindIndex(_sections, s => s.Type == type);

        // Offsets and sizes are checked where they are used: a section the loader does not read from the file
        // (.bss) may have a size beyond the file's end.
        private long Start(Section section) => Offset(section.Offset);

        private long Length(Section section) => Offset(section.Size);

        private string ReadString(int table, long offset)
        {
            if (table < 0 || table >= _sections.Length)
            {
                throw new InvalidDataException("a string table index is outside the section headers");
            }

            long start = Start(_sections[table]) + offset;
            long end = start;
            while (ReadByte(end) != 0)
            {
                end++;
            }

            return Encoding.ASCII.GetString(_data, (int)start, (int)(end - start));
        }

        private byte ReadByte(long at) =>
            at >= 0 && at < _data.Length ? _data[at] : throw new InvalidDataException("an offset points outside the file");

        private int U16(long at)
        {
            Check(at, 2);
            return _data[at] | (_data[at + 1] << 8);
        }

        private uint U32(long at)
        {
            Check(at, 4);
            return (uint)(_data[at] | (_data[at + 1] << 8) | (_data[at + 2] << 16) | (_data[at + 3] << 24));
        }

        private ulong U64(long at) => U32(at) | ((ulong)U32(at + 4) << 32);

        private long Offset(ulong value) =>
            value <= (ulong)_data.Length ? (long)value : throw new InvalidDataException("an offset points outside the file");

        private void Check(long at, int length)
        {
            if (at < 0 || at + length > _data.Length)
            {
                throw new InvalidDataException("an offset points outside the file");
            }
        }

        /// <summary>One needed version: its name, its version index, where its flags are in the file, and the flags.</summary>
        internal sealed class VersionNeed
        {
            internal VersionNeed(string name, int index, long flagsOffset, ushort flags)
            {
                Name = name;
                Index = index;
                FlagsOffset = flagsOffset;
                Flags = flags;
            }

            /// <summary>Gets the version's name, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
            internal string Name { get; }

            /// <summary>Gets the version index that .gnu.version gives the symbols of this version.</summary>
            internal int Index { get; }

            /// <summary>Gets the file offset of the 16-bit vna_flags field.</summary>
            internal long FlagsOffset { get; }

            /// <summary>Gets the flags (<see cref="VersionFlagWeak"/> among them).</summary>
            internal ushort Flags { get; }
        }

        /// <summary>The fields of a section header this class reads.</summary>
        private sealed class Section
        {
            internal Section(uint type, ulong flags, ulong offset, ulong size, int link, uint info)
            {
                Type = type;
                Flags = flags;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            internal uint Type { get; }

            internal ulong Flags { get; }

            internal ulong Offset { get; }

            internal ulong Size { get; }

            internal int Link { get; }

            internal uint Info { get; }
        }
    }
}
