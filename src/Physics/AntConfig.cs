namespace CbpGpu.Physics;

/// <summary>The Ant task settings (docs/ant.md#task-settings). Defaults are the published Gym Ant-v3 ones.</summary>
/// <param name="Observation">Which observation vector the env produces.</param>
/// <param name="MaxEpisodeSteps">Episodes are truncated after this many env steps (1000; 500 under seed2023).</param>
/// <param name="ResetNoise">
/// MuJoCo: qpos = rest + U(-noise, noise), qvel = noise * N(0, 1) at every reset; Bullet: each joint angle U(-noise, noise).
/// </param>
/// <param name="Engine">The physics (docs/bullet-ant.md); the Bullet Ant has one observation of 28 floats.</param>
public sealed record AntConfig(
    ObservationKind Observation = ObservationKind.Standard,
    int MaxEpisodeSteps = 1000,
    double ResetNoise = 0.1,
    PhysicsEngine Engine = PhysicsEngine.MuJoCo)
{
    public int ObservationSize => Engine != PhysicsEngine.MuJoCo ? BulletAnt.ObservationLength : Observation == ObservationKind.NoContact ? 27 : 111;

    /// <summary>
    /// The episode caps of the protocols: nature2024 (1000 steps) and seed2023 (500), on MuJoCo; the seed2023 preset
    /// runs this on Bullet (EnvSettings.Seed2023).
    /// </summary>
    public static AntConfig Nature2024 { get; } = new();
    public static AntConfig Seed2023 { get; } = new(MaxEpisodeSteps: 500);

    public void Validate()
    {
        if (!Enum.IsDefined(Observation)) throw new ArgumentOutOfRangeException(nameof(Observation), Observation, "unknown observation kind");
        if (!Enum.IsDefined(Engine)) throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "unknown physics engine");
        if (Engine != PhysicsEngine.MuJoCo && Observation != ObservationKind.Standard)
            throw new ArgumentException($"the Bullet Ant has one observation (28 floats); {Observation} is MuJoCo's", nameof(Observation));
        if (MaxEpisodeSteps < 1) throw new ArgumentOutOfRangeException(nameof(MaxEpisodeSteps), MaxEpisodeSteps, "must be at least 1");
        if (!(ResetNoise >= 0) || double.IsInfinity(ResetNoise)) throw new ArgumentOutOfRangeException(nameof(ResetNoise), ResetNoise, "must be finite and >= 0");
    }
}
