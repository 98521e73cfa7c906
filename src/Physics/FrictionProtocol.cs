namespace CbpGpu.Physics;

/// <summary>How the ground friction changes during a run (docs/friction.md#protocols).</summary>
public enum FrictionProtocol
{
    /// <summary>One fixed friction for the whole run.</summary>
    Constant,
    /// <summary>The authors' released setup: log-uniform in [0.02, 2], changed at the first episode end after 2M steps.</summary>
    Nature2024,
    /// <summary>The 2023 reproduction: 10^U(-4, 4), changed every 10M steps exactly, mid-episode.</summary>
    Seed2023,
}
