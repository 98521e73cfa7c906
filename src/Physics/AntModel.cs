using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>The Ant MJCF embedded in this assembly, compiled once per process; envs take copies of it.</summary>
public static class AntModel
{
    /// <summary>The MJCF text of src/Physics/Assets/ant.xml.</summary>
    public static string Xml { get; } = ReadXml();

    private static readonly Lazy<MjModel> Shared = new(() => MjModel.FromXml(Xml, "ant.xml"), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A fresh, independently owned copy of the compiled Ant.</summary>
    public static MjModel Create() => Shared.Value.Copy();

    private static string ReadXml()
    {
        const string name = "CbpGpu.Physics.Assets.ant.xml";
        using var s = typeof(AntModel).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var reader = new StreamReader(s);
        return reader.ReadToEnd();
    }
}
