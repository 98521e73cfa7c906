// Build step that lets TorchSharp's native glue load on systems whose libstdc++ is older than the
// one it was linked against (Debian 12 ships GCC 12's libstdc++, which stops at GLIBCXX_3.4.30, while
// libLibTorchSharp.so 0.107 asks for GLIBCXX_3.4.32).
//
// Why marking the requirement weak is safe: glibc refuses to load a library when a version it needs is
// missing, unless that requirement (Vernaux entry) carries VER_FLG_WEAK. The only symbol of GLIBCXX_3.4.32
// that libLibTorchSharp.so references is std::ios_base_library_init(), a link-time anchor with no
// relocation, so nothing is ever bound against that version. This step checks exactly that before
// patching: a missing version that some relocation does bind is NOT weakened (it would crash later
// instead of failing cleanly at load time), and the build warns instead.
//
// Compiled twice: by MSBuild's RoslynCodeTaskFactory (see Directory.Build.targets) as the task, and by
// the test project with CBPGPU_NO_MSBUILD defined, which drops the MSBuild glue and keeps the ELF logic.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

/// <summary>
/// Writes a copy of a shared library in which every libstdc++ version requirement that the system's
/// libstdc++ does not define is marked weak, when (and only when) that is needed and safe.
/// </summary>
public sealed class WeakenMissingLibStdCxxVersions
#if !CBPGPU_NO_MSBUILD
    : Microsoft.Build.Utilities.Task
#endif
{
    public const uint ShtRela = 4;
    public const uint ShtDynsym = 11;
    public const uint ShtRel = 9;
    public const uint ShtGnuVerdef = 0x6ffffffd;
    public const uint ShtGnuVerneed = 0x6ffffffe;
    public const uint ShtGnuVersym = 0x6fffffff;
    public const ushort VerFlgBase = 0x1;
    public const ushort VerFlgWeak = 0x2;
    public const string LibStdCxxSoname = "libstdc++.so.6";

#if !CBPGPU_NO_MSBUILD
    /// <summary>The library as the package ships it (never written to).</summary>
    [Microsoft.Build.Framework.Required]
    public string Library { get; set; } = "";

    /// <summary>The libstdc++.so.6 the loader will pick; empty or missing means "cannot tell, leave alone".</summary>
    public string SystemLibStdCxx { get; set; } = "";

    /// <summary>Where the patched copy goes (same file name as <see cref="Library"/>).</summary>
    [Microsoft.Build.Framework.Required]
    public string OutputDirectory { get; set; } = "";

    /// <summary>Path of the patched copy, or empty when the original is to be used unchanged.</summary>
    [Microsoft.Build.Framework.Output]
    public string PatchedLibrary { get; set; } = "";

    public override bool Execute()
    {
        const Microsoft.Build.Framework.MessageImportance low = Microsoft.Build.Framework.MessageImportance.Low;
        if (string.IsNullOrEmpty(SystemLibStdCxx) || !File.Exists(SystemLibStdCxx))
        {
            Log.LogMessage(low, $"{Path.GetFileName(Library)}: no system {LibStdCxxSoname} found at '{SystemLibStdCxx}'; using it unchanged.");
            return true;
        }
        try
        {
            var systemVersions = DefinedVersions(File.ReadAllBytes(SystemLibStdCxx));
            var result = WriteIfNeeded(Library, systemVersions, OutputDirectory);
            foreach (var v in result.Unfixable)
                Log.LogWarning($"{Path.GetFileName(Library)} needs {v} from {LibStdCxxSoname}, which {SystemLibStdCxx} lacks and which it really uses; it will not load. Install a newer libstdc++6 (GCC >= 13).");
            if (result.PatchedPath is not null)
            {
                PatchedLibrary = result.PatchedPath;
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    $"{Path.GetFileName(Library)}: marked {string.Join(", ", result.Weakened)} weak (missing from {SystemLibStdCxx}, unused by relocations) -> {result.PatchedPath}");
            }
            else
            {
                Log.LogMessage(low, $"{Path.GetFileName(Library)}: {SystemLibStdCxx} has every version it needs; using it unchanged.");
            }
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Log.LogWarning($"could not check {Library} against {SystemLibStdCxx}: {e.Message}; using it unchanged.");
            return true;
        }
    }
#endif

    /// <summary>What <see cref="WriteIfNeeded"/> did.</summary>
    public sealed class Result
    {
        public Result(string? patchedPath, IReadOnlyList<string> weakened, IReadOnlyList<string> unfixable)
        {
            PatchedPath = patchedPath;
            Weakened = weakened;
            Unfixable = unfixable;
        }

        /// <summary>The patched copy, or null when the library needs no change (or none that helps).</summary>
        public string? PatchedPath { get; }

        /// <summary>Versions now marked weak in the copy.</summary>
        public IReadOnlyList<string> Weakened { get; }

        /// <summary>Missing versions that relocations bind: weakening them would not help.</summary>
        public IReadOnlyList<string> Unfixable { get; }
    }

    /// <summary>
    /// Writes <paramref name="outputDirectory"/>/&lt;name of library&gt; when some libstdc++ version the library
    /// needs is missing from <paramref name="systemVersions"/> and safe to weaken. Leaves an identical existing
    /// copy untouched (so incremental copies stay incremental) and never writes anything otherwise.
    /// </summary>
    public static Result WriteIfNeeded(string library, ICollection<string> systemVersions, string outputDirectory)
    {
        byte[] original = File.ReadAllBytes(library);
        var weakened = new List<string>();
        var unfixable = new List<string>();
        byte[]? patched = Patch(original, systemVersions, weakened, unfixable);
        if (patched is null) return new Result(null, weakened, unfixable);

        string target = Path.Combine(outputDirectory, Path.GetFileName(library));
        if (Path.GetFullPath(target) == Path.GetFullPath(library))
            throw new IOException($"refusing to overwrite the original {library}");
        if (!File.Exists(target) || !SameBytes(File.ReadAllBytes(target), patched))
        {
            Directory.CreateDirectory(outputDirectory);
            // Write beside, then rename: a reader never sees half a library, and a hard link to the
            // original (should one exist) is replaced rather than written through.
            string temp = target + ".tmp";
            File.WriteAllBytes(temp, patched);
            if (File.Exists(target)) File.Delete(target);
            File.Move(temp, target);
        }
        return new Result(target, weakened, unfixable);
    }

    /// <summary>
    /// The bytes of <paramref name="elf"/> with VER_FLG_WEAK set on each libstdc++ requirement that is missing
    /// from <paramref name="systemVersions"/> and bound by no relocation; null when nothing would change.
    /// </summary>
    public static byte[]? Patch(byte[] elf, ICollection<string> systemVersions, List<string> weakened, List<string> unfixable)
    {
        var file = new Elf64(elf);
        byte[]? patched = null;
        foreach (var need in file.VersionNeeds())
        {
            if (need.File != LibStdCxxSoname || systemVersions.Contains(need.Name) || (need.Flags & VerFlgWeak) != 0)
                continue;
            if (file.RelocationsUseVersionIndex(need.VersionIndex))
            {
                unfixable.Add(need.Name);
                continue;
            }
            patched ??= (byte[])elf.Clone();
            WriteU16(patched, need.FlagsOffset, (ushort)(need.Flags | VerFlgWeak));
            weakened.Add(need.Name);
        }
        return patched;
    }

    /// <summary>The version names a library defines (its .gnu.version_d, minus the soname entry).</summary>
    public static List<string> DefinedVersions(byte[] elf) => new Elf64(elf).VersionDefinitions();

    /// <summary>Every version requirement (Verneed file, Vernaux entry) of a library, in file order.</summary>
    public static List<VersionNeed> NeededVersions(byte[] elf) => new Elf64(elf).VersionNeeds();

    /// <summary>One Vernaux entry: a version <see cref="Name"/> required from <see cref="File"/>.</summary>
    public sealed class VersionNeed
    {
        public VersionNeed(string file, string name, ushort flags, ushort versionIndex, int flagsOffset)
        {
            File = file;
            Name = name;
            Flags = flags;
            VersionIndex = versionIndex;
            FlagsOffset = flagsOffset;
        }

        public string File { get; }
        public string Name { get; }
        public ushort Flags { get; }

        /// <summary>vna_other: the index .gnu.version uses for symbols of this version.</summary>
        public ushort VersionIndex { get; }

        /// <summary>File offset of this entry's vna_flags field.</summary>
        public int FlagsOffset { get; }
    }

    private static bool SameBytes(byte[] a, byte[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i]) return false;
        return true;
    }

    private static void WriteU16(byte[] b, int o, ushort v)
    {
        b[o] = (byte)v;
        b[o + 1] = (byte)(v >> 8);
    }

    /// <summary>Just enough of a little-endian ELF64 reader: section headers, string tables, symbol versioning.</summary>
    private sealed class Elf64
    {
        private readonly byte[] _b;
        private readonly Section[] _sections;

        private struct Section
        {
            public uint Type;
            public ulong Offset;
            public ulong Size;
            public uint Link;
            public uint Info;
            public ulong EntrySize;
        }

        public Elf64(byte[] bytes)
        {
            _b = bytes;
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (bytes[4] != 2) throw new InvalidDataException("not a 64-bit ELF file");
            if (bytes[5] != 1) throw new InvalidDataException("not a little-endian ELF file");
            ulong shoff = U64(0x28);
            int shentsize = U16(0x3A);
            int shnum = U16(0x3C);
            if (shoff == 0) throw new InvalidDataException("ELF file has no section headers");
            if (shentsize < 64) throw new InvalidDataException($"ELF section header size {shentsize} < 64");
            Section first = ReadSection(shoff, shentsize, 0);
            // With 0xff00 or more sections, e_shnum is 0 and the real count lives in section 0's sh_size.
            long count = shnum != 0 ? shnum : (long)first.Size;
            if (count <= 0 || (ulong)count > ((ulong)bytes.Length - shoff) / (ulong)shentsize)
                throw new InvalidDataException("ELF section header table is truncated");
            _sections = new Section[count];
            for (int i = 0; i < count; i++) _sections[i] = ReadSection(shoff, shentsize, i);
        }

        private Section ReadSection(ulong shoff, int shentsize, int index)
        {
            int o = Checked(shoff + (ulong)index * (ulong)shentsize, 64);
            var s = new Section
            {
                Type = U32(o + 4),
                Offset = U64(o + 24),
                Size = U64(o + 32),
                Link = U32(o + 40),
                Info = U32(o + 44),
                EntrySize = U64(o + 56),
            };
            const uint shtNobits = 8;
            if (s.Type != shtNobits && s.Type != 0) Checked(s.Offset, s.Size);
            return s;
        }

        public List<VersionNeed> VersionNeeds()
        {
            var result = new List<VersionNeed>();
            for (int si = 0; si < _sections.Length; si++)
            {
                Section s = _sections[si];
                if (s.Type != ShtGnuVerneed) continue;
                Section strtab = StringTable(s.Link);
                ulong end = s.Offset + s.Size;
                ulong vn = s.Offset;
                // sh_info holds the number of Verneed entries; vn_next/vna_next are byte offsets (0 = last).
                for (uint i = 0; i < s.Info; i++)
                {
                    int o = CheckedWithin(vn, 16, end);
                    int cnt = U16(o + 2);
                    string file = CString(strtab, U32(o + 4));
                    uint auxOff = U32(o + 8);
                    uint next = U32(o + 12);
                    ulong aux = vn + auxOff;
                    for (int j = 0; j < cnt; j++)
                    {
                        int a = CheckedWithin(aux, 16, end);
                        ushort flags = (ushort)U16(a + 4);
                        ushort other = (ushort)U16(a + 6);
                        string name = CString(strtab, U32(a + 8));
                        result.Add(new VersionNeed(file, name, flags, other, a + 4));
                        uint auxNext = U32(a + 12);
                        if (auxNext == 0) break;
                        aux += auxNext;
                    }
                    if (next == 0) break;
                    vn += next;
                }
            }
            return result;
        }

        public List<string> VersionDefinitions()
        {
            var result = new List<string>();
            for (int si = 0; si < _sections.Length; si++)
            {
                Section s = _sections[si];
                if (s.Type != ShtGnuVerdef) continue;
                Section strtab = StringTable(s.Link);
                ulong end = s.Offset + s.Size;
                ulong vd = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    int o = CheckedWithin(vd, 20, end);
                    int flags = U16(o + 2);
                    int cnt = U16(o + 6);
                    uint auxOff = U32(o + 12);
                    uint next = U32(o + 16);
                    // The first Verdaux names the version itself; later ones name its parents.
                    if (cnt > 0 && (flags & VerFlgBase) == 0)
                    {
                        int a = CheckedWithin(vd + auxOff, 8, end);
                        result.Add(CString(strtab, U32(a)));
                    }
                    if (next == 0) break;
                    vd += next;
                }
            }
            return result;
        }

        /// <summary>Whether any REL/RELA entry against the dynamic symbol table binds a symbol of that version.</summary>
        public bool RelocationsUseVersionIndex(ushort versionIndex)
        {
            for (int di = 0; di < _sections.Length; di++)
            {
                if (_sections[di].Type != ShtDynsym) continue;
                Section? versym = null;
                foreach (var s in _sections)
                    if (s.Type == ShtGnuVersym && s.Link == di) versym = s;
                if (versym is null) continue;
                ulong symbols = versym.Value.Size / 2;
                foreach (var r in _sections)
                {
                    if ((r.Type != ShtRela && r.Type != ShtRel) || r.Link != di) continue;
                    ulong entry = r.Type == ShtRela ? 24UL : 16UL;
                    if (r.EntrySize != 0 && r.EntrySize != entry)
                        throw new InvalidDataException($"relocation entry size {r.EntrySize}, expected {entry}");
                    for (ulong off = 0; off + entry <= r.Size; off += entry)
                    {
                        ulong info = U64(Checked(r.Offset + off, 16) + 8);
                        ulong sym = info >> 32;
                        if (sym == 0) continue;
                        if (sym >= symbols) throw new InvalidDataException($"relocation names symbol {sym}, beyond .gnu.version");
                        int index = U16(Checked(versym.Value.Offset + sym * 2, 2)) & 0x7fff;
                        if (index == versionIndex) return true;
                    }
                }
            }
            return false;
        }

        private Section StringTable(uint index)
        {
            if (index >= _sections.Length) throw new InvalidDataException($"string table index {index} out of range");
            const uint shtStrtab = 3;
            Section s = _sections[index];
            if (s.Type != shtStrtab) throw new InvalidDataException($"section {index} is not a string table");
            return s;
        }

        private string CString(Section strtab, uint offset)
        {
            if (offset >= strtab.Size) throw new InvalidDataException($"string offset {offset} outside its table");
            int start = (int)(strtab.Offset + offset);
            int limit = (int)(strtab.Offset + strtab.Size);
            int e = start;
            while (e < limit && _b[e] != 0) e++;
            if (e == limit) throw new InvalidDataException("unterminated string in string table");
            return Encoding.ASCII.GetString(_b, start, e - start);
        }

        private int Checked(ulong offset, ulong size)
        {
            if (offset > (ulong)_b.Length || size > (ulong)_b.Length - offset)
                throw new InvalidDataException($"ELF structure at {offset} (+{size}) runs past the end of the file");
            return (int)offset;
        }

        private int CheckedWithin(ulong offset, ulong size, ulong end)
        {
            if (offset + size > end) throw new InvalidDataException($"version entry at {offset} runs past its section");
            return Checked(offset, size);
        }

        private int U16(int o) => _b[o] | (_b[o + 1] << 8);

        private uint U32(int o) => (uint)(_b[o] | (_b[o + 1] << 8) | (_b[o + 2] << 16) | (_b[o + 3] << 24));

        private ulong U64(int o) => U32(o) | ((ulong)U32(o + 4) << 32);
    }
}
