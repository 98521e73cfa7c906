using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>The Ant MJCF embedded in this assembly, compiled once per process; envs take copies of it.</summary>
public static class AntModel
{
    /// <summary>The asset's file name under src/Physics/Assets.</summary>
    public const string File = "ant.xml";

    /// <summary>A fresh, independently owned copy of the compiled Ant.</summary>
    public static MjModel Create() => MjcfAsset.Create(File);
}
