using System.Collections.Concurrent;
using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>
/// The MJCF files embedded in this assembly (src/Physics/Assets), each compiled once per process; envs take copies, so
/// each env's friction is its own.
/// </summary>
public static class MjcfAsset
{
    private static readonly ConcurrentDictionary<string, Lazy<MjModel>> Compiled = new(StringComparer.Ordinal);

    /// <summary>The MJCF text of src/Physics/Assets/<paramref name="file"/>.</summary>
    public static string Xml(string file)
    {
        string name = "CbpGpu.Physics.Assets." + file;
        using var s = typeof(MjcfAsset).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var reader = new StreamReader(s);
        return reader.ReadToEnd();
    }

    /// <summary>A fresh, independently owned copy of the compiled model of <paramref name="file"/>.</summary>
    public static MjModel Create(string file) =>
        Compiled.GetOrAdd(file, f => new Lazy<MjModel>(() => MjModel.FromXml(Xml(f), f), LazyThreadSafetyMode.ExecutionAndPublication)).Value.Copy();
}
