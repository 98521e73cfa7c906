using System.Reflection;
using TorchSharp;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// The build step that marks libLibTorchSharp.so's unusable libstdc++ version requirements weak, run on the
/// real library from the NuGet cache (read only) against given lists of system versions.
/// </summary>
public sealed class WeakenMissingLibStdCxxVersionsTests : IDisposable
{
    private const string Missing = "GLIBCXX_3.4.32";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cbpgpu-weaken-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    /// <summary>The package's untouched file in the NuGet cache.</summary>
    private static string PackageLibrary()
    {
        string root = typeof(WeakenMissingLibStdCxxVersionsTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "NuGetPackageRoot").Value!;
        Version v = typeof(torch).Assembly.GetName().Version!;
        string path = Path.Combine(root, "torchsharp", $"{v.Major}.{v.Minor}.{v.Build}", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"expected TorchSharp's native library at {path}");
        return path;
    }

    private static List<string> LibStdCxxNeeds(byte[] elf) =>
        WeakenMissingLibStdCxxVersions.NeededVersions(elf)
            .Where(n => n.File == WeakenMissingLibStdCxxVersions.LibStdCxxSoname).Select(n => n.Name).ToList();

    [Fact]
    public void ReadsTheVersionRequirementsOfLibTorchSharp()
    {
        // As listed by `readelf -V` for TorchSharp 0.107.0: 20 requirements on libstdc++.so.6, none weak.
        var needs = WeakenMissingLibStdCxxVersions.NeededVersions(File.ReadAllBytes(PackageLibrary()));
        var stdcxx = needs.Where(n => n.File == "libstdc++.so.6").ToList();
        Assert.Equal(20, stdcxx.Count);
        Assert.Contains(stdcxx, n => n.Name == Missing && n.VersionIndex == 18);
        Assert.Contains(needs, n => n.File == "libc.so.6" && n.Name == "GLIBC_2.34");
        Assert.All(needs, n => Assert.Equal(0, n.Flags));
    }

    [Fact]
    public void ReadsTheVersionsTheSystemLibStdCxxDefines()
    {
        string system = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .First(File.Exists);
        var defined = WeakenMissingLibStdCxxVersions.DefinedVersions(File.ReadAllBytes(system));
        Assert.Contains("GLIBCXX_3.4", defined);
        Assert.Contains("GLIBCXX_3.4.30", defined);   // every supported distribution's GCC (>= 12) has it
        Assert.Contains("CXXABI_1.3", defined);
        Assert.DoesNotContain("libstdc++.so.6", defined);  // the VER_FLG_BASE entry is the soname, not a version
    }

    [Fact]
    public void LeavesASystemThatHasEveryVersionAlone()
    {
        string library = PackageLibrary();
        byte[] before = File.ReadAllBytes(library);
        var everything = LibStdCxxNeeds(before);
        Assert.Contains(Missing, everything);

        var result = WeakenMissingLibStdCxxVersions.WriteIfNeeded(library, everything, _dir);

        Assert.Null(result.PatchedPath);
        Assert.Empty(result.Weakened);
        Assert.Empty(result.Unfixable);
        Assert.False(Directory.Exists(_dir), "nothing may be written when nothing is missing");
        Assert.Equal(before, File.ReadAllBytes(library));
    }

    [Fact]
    public void MarksExactlyTheMissingRequirementWeak()
    {
        string library = PackageLibrary();
        byte[] original = File.ReadAllBytes(library);
        var system = LibStdCxxNeeds(original).Where(n => n != Missing).ToList();

        var result = WeakenMissingLibStdCxxVersions.WriteIfNeeded(library, system, _dir);

        Assert.Equal(Path.Combine(_dir, "libLibTorchSharp.so"), result.PatchedPath);
        Assert.Equal([Missing], result.Weakened);
        Assert.Empty(result.Unfixable);
        Assert.Equal(original, File.ReadAllBytes(library));

        byte[] patched = File.ReadAllBytes(result.PatchedPath!);
        Assert.Equal(original.Length, patched.Length);
        var entry = WeakenMissingLibStdCxxVersions.NeededVersions(original).Single(n => n.Name == Missing);
        var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        Assert.NotEmpty(differing);
        Assert.All(differing, i => Assert.InRange(i, entry.FlagsOffset, entry.FlagsOffset + 1));  // vna_flags is 2 bytes
        int flags = patched[entry.FlagsOffset] | (patched[entry.FlagsOffset + 1] << 8);
        Assert.Equal(entry.Flags | 0x2, flags);

        // Read back through the parser: that one Vernaux is weak, every other entry is as it was.
        var after = WeakenMissingLibStdCxxVersions.NeededVersions(patched);
        var beforeNeeds = WeakenMissingLibStdCxxVersions.NeededVersions(original);
        Assert.Equal(beforeNeeds.Count, after.Count);
        for (int i = 0; i < after.Count; i++)
        {
            Assert.Equal(beforeNeeds[i].Name, after[i].Name);
            Assert.Equal(beforeNeeds[i].Name == Missing ? 0x2 : 0, after[i].Flags);
        }
    }

    [Fact]
    public void AnIdenticalExistingCopyIsNotRewritten()
    {
        string library = PackageLibrary();
        var system = LibStdCxxNeeds(File.ReadAllBytes(library)).Where(n => n != Missing).ToList();
        string first = WeakenMissingLibStdCxxVersions.WriteIfNeeded(library, system, _dir).PatchedPath!;
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(first, stamp);

        string second = WeakenMissingLibStdCxxVersions.WriteIfNeeded(library, system, _dir).PatchedPath!;

        Assert.Equal(first, second);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(second));
    }

    [Fact]
    public void ARequirementThatRelocationsBindIsNotWeakened()
    {
        // GLIBCXX_3.4.30 is bound by a relocation (readelf -r lists one): weakening it would only move the
        // failure from load time to the first call, so the step must refuse.
        string library = PackageLibrary();
        var system = LibStdCxxNeeds(File.ReadAllBytes(library)).Where(n => n != "GLIBCXX_3.4.30").ToList();

        var result = WeakenMissingLibStdCxxVersions.WriteIfNeeded(library, system, _dir);

        Assert.Null(result.PatchedPath);
        Assert.Equal(["GLIBCXX_3.4.30"], result.Unfixable);
        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public void RejectsAFileThatIsNotElf64()
    {
        Assert.Throws<InvalidDataException>(() => WeakenMissingLibStdCxxVersions.NeededVersions(new byte[100]));
        byte[] truncated = File.ReadAllBytes(PackageLibrary())[..4096];
        Assert.Throws<InvalidDataException>(() => WeakenMissingLibStdCxxVersions.NeededVersions(truncated));
    }

    [Fact]
    public void TheBuildOutputCarriesTheRightCopyForThisSystem()
    {
        // The runtime loads runtimes/linux-x64/native/libLibTorchSharp.so of this (RID-agnostic) output.
        string built = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        byte[] original = File.ReadAllBytes(PackageLibrary());
        string system = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .First(File.Exists);
        var systemVersions = WeakenMissingLibStdCxxVersions.DefinedVersions(File.ReadAllBytes(system));
        byte[] expected = WeakenMissingLibStdCxxVersions.Patch(original, systemVersions, [], []) ?? original;
        Assert.Equal(expected, File.ReadAllBytes(built));
    }

    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        using var t = torch.arange(1, 5, dtype: torch.float32);
        using var s = (t * t).sum();
        Assert.Equal(30f, s.item<float>());
    }
}
