namespace CbpGpu.Physics;

/// <summary>What the Ant observes.</summary>
public enum ObservationKind
{
    /// <summary>111 floats: qpos[2..15), qvel, clip(cfrc_ext) as plain mj_step leaves it (all zero), as in the published runs.</summary>
    Standard,
    /// <summary>27 floats: qpos[2..15), qvel.</summary>
    NoContact,
    /// <summary>111 floats with real contact forces: mj_rnePostConstraint runs after each env step.</summary>
    RealContact,
}
