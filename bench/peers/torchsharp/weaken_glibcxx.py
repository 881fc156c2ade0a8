#!/usr/bin/env python3
"""Let TorchSharp 0.107.0's native library load against an older libstdc++ (Debian 12 ships GLIBCXX_3.4.30).

Why: libLibTorchSharp.so was linked by GCC 13 or later, whose <iostream> makes every object refer to
std::ios_base_library_init(), a symbol versioned GLIBCXX_3.4.32 that exists only so the link pulls in a new enough
libstdc++. Nothing calls it and no relocation refers to it, but the version need alone makes dlopen fail with
"version `GLIBCXX_3.4.32' not found". Marking that one entry of the library's version needs (.gnu.version_r) weak
(VER_FLG_WEAK) lets the dynamic loader accept its absence.

What it does: reads the ELF64 little-endian file, finds the version need, checks that no relocation (REL or RELA)
refers to a dynamic symbol of that version, then sets the weak flag - a change of one 16-bit field, nothing else.
It does nothing when the system libstdc++ already provides the version, when the library does not need it, or when
the need is already weak, and refuses (exit status 1) when a relocation uses the version.

usage: python3 weaken_glibcxx.py LIBRARY [VERSION (default GLIBCXX_3.4.32)] [SYSTEM_LIBSTDCXX]

Used by bench/Artifex.Benchmarks (TorchSharpPeer.cs) on the copy it builds. Part of Artifex.NET; MIT licence.
"""
import struct
import sys

SHT_REL, SHT_RELA, SHT_DYNSYM = 9, 4, 11
SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFE, 0x6FFFFFFF
VER_FLG_WEAK = 0x2

SECTION = struct.Struct("<IIQQQQIIQQ")  # sh_name, type, flags, addr, offset, size, link, info, addralign, entsize
VERNEED = struct.Struct("<HHIII")       # vn_version, vn_cnt, vn_file, vn_aux, vn_next
VERNAUX = struct.Struct("<IHHII")       # vna_hash, vna_flags, vna_other, vna_name, vna_next
SYMBOL = struct.Struct("<IBBHQQ")       # st_name, st_info, st_other, st_shndx, st_value, st_size


class Elf:
    def __init__(self, data):
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise SystemExit("weaken_glibcxx: not an ELF64 little-endian file")
        self.data = data
        (shoff,) = struct.unpack_from("<Q", data, 0x28)
        entsize, count = struct.unpack_from("<HH", data, 0x3A)
        self.sections = [SECTION.unpack_from(data, shoff + i * entsize) for i in range(count)]

    def first(self, kind):
        return next((s for s in self.sections if s[1] == kind), None)

    def string(self, table_section, offset):
        start = self.sections[table_section][4] + offset
        return bytes(self.data[start:self.data.index(0, start)]).decode()

    def version_needs(self):
        """(name, version index, file offset of the flags field, flags) for every needed version."""
        verneed = self.first(SHT_GNU_VERNEED)
        if verneed is None:
            return
        _, _, _, _, offset, _, strings, entries, _, _ = verneed
        for _ in range(entries):
            _, aux_count, _, aux, following = VERNEED.unpack_from(self.data, offset)
            at = offset + aux
            for _ in range(aux_count):
                _, flags, index, name, next_aux = VERNAUX.unpack_from(self.data, at)
                yield self.string(strings, name), index, at + 4, flags
                at += next_aux
            offset += following

    def symbols_of_version(self, index):
        """Indices and names of the dynamic symbols whose version index (hidden bit masked) is `index`."""
        dynsym, versym = self.first(SHT_DYNSYM), self.first(SHT_GNU_VERSYM)
        found = {}
        for i in range(dynsym[5] // SYMBOL.size):
            (version,) = struct.unpack_from("<H", self.data, versym[4] + 2 * i)
            if version & 0x7FFF == index:
                (name,) = struct.unpack_from("<I", self.data, dynsym[4] + i * SYMBOL.size)
                found[i] = self.string(dynsym[6], name)
        return found

    def relocated_symbols(self):
        """Symbol indices referred to by any REL or RELA entry."""
        used = set()
        for section in self.sections:
            if section[1] in (SHT_REL, SHT_RELA):
                size = 24 if section[1] == SHT_RELA else 16
                for entry in range(section[5] // size):
                    (info,) = struct.unpack_from("<Q", self.data, section[4] + entry * size + 8)
                    used.add(info >> 32)
        return used


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    library = argv[1]
    version = argv[2] if len(argv) > 2 else "GLIBCXX_3.4.32"
    system = argv[3] if len(argv) > 3 else "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
    try:
        with open(system, "rb") as f:
            if version.encode() + b"\0" in f.read():
                print(f"weaken_glibcxx: {system} has {version}; nothing to do")
                return 0
    except OSError:
        pass  # no system library to compare with: patch anyway

    with open(library, "rb") as f:
        elf = Elf(bytearray(f.read()))
    need = next((n for n in elf.version_needs() if n[0] == version), None)
    if need is None:
        print(f"weaken_glibcxx: {library} does not need {version}; nothing to do")
        return 0
    _, index, flags_at, flags = need
    if flags & VER_FLG_WEAK:
        print(f"weaken_glibcxx: {version} is already weak in {library}")
        return 0
    symbols = elf.symbols_of_version(index)
    if symbols.keys() & elf.relocated_symbols():
        print(f"weaken_glibcxx: a relocation uses a {version} symbol of {library}; not patching", file=sys.stderr)
        return 1

    struct.pack_into("<H", elf.data, flags_at, flags | VER_FLG_WEAK)
    with open(library, "wb") as f:
        f.write(elf.data)
    print(f"weaken_glibcxx: {version} made weak in {library} (its symbols, none relocated: {', '.join(symbols.values()) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
