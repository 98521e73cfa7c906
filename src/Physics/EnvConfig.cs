using System.Text.Json.Serialization;

namespace CbpGpu.Physics;

/// <summary>
/// The task settings of a run's env (docs/ant.md#task-settings, docs/gym-mujoco.md). Defaults are the published Gym
/// Ant-v3 ones; <see cref="EnvRegistry"/> gives each env's own (<see cref="EnvSpec.Defaults"/>).
/// </summary>
/// <param name="Observation">Which observation the Ant on MuJoCo produces; every other env has one (Standard).</param>
/// <param name="MaxEpisodeSteps">Episodes are truncated after this many env steps (1000; 500 under seed2023).</param>
/// <param name="ResetNoise">The scale of the reset noise; each env says how it draws it (docs/ant.md#reset, docs/gym-mujoco.md#reset).</param>
/// <param name="Engine">The physics (docs/bullet-ant.md): Bullet or BulletFixed for the ant-bullet entry, MuJoCo for every other.</param>
/// <param name="Name">
/// The env's registry id; null for the Ant, whose entry follows from <paramref name="Engine"/> (ant on MuJoCo,
/// ant-bullet on Bullet). Left out of config.json when null, so Ant runs' files stay as before and older files read as the Ant.
/// </param>
public sealed record EnvConfig(
    ObservationKind Observation = ObservationKind.Standard,
    int MaxEpisodeSteps = 1000,
    double ResetNoise = 0.1,
    PhysicsEngine Engine = PhysicsEngine.MuJoCo,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name = null)
{
    /// <summary>The registry id of this env: <see cref="Name"/>, or the Ant's entry for its engine.</summary>
    [JsonIgnore]
    public string Id => Name ?? (Engine == PhysicsEngine.MuJoCo ? EnvRegistry.Ant : EnvRegistry.AntBullet);

    /// <summary>What one env of this config observes (its instances say; config.json records it).</summary>
    public int ObservationSize => EnvRegistry.Sizes(this).Observation;

    /// <summary>What a progress line calls this env: "the MuJoCo Ant", "the Bullet Ant", "hopper".</summary>
    public string Describe() => Name is null ? $"the {Engine} Ant" : Id;

    /// <summary>
    /// The episode caps of the protocols: nature2024 (1000 steps) and seed2023 (500), on MuJoCo; the seed2023 preset
    /// runs this on Bullet (EnvSettings.Seed2023).
    /// </summary>
    public static EnvConfig Nature2024 { get; } = new();
    public static EnvConfig Seed2023 { get; } = new(MaxEpisodeSteps: 500);

    public void Validate()
    {
        if (!Enum.IsDefined(Observation)) throw new ArgumentOutOfRangeException(nameof(Observation), Observation, "unknown observation kind");
        if (!Enum.IsDefined(Engine)) throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "unknown physics engine");
        var spec = EnvRegistry.Get(Id);
        if (Engine != PhysicsEngine.MuJoCo && Observation != ObservationKind.Standard)
            throw new ArgumentException($"the Bullet Ant has one observation (28 floats); {Observation} is MuJoCo's", nameof(Observation));
        if ((Engine != PhysicsEngine.MuJoCo) != (spec.Id == EnvRegistry.AntBullet))
            throw new ArgumentException($"{spec.Id} runs on {(spec.Id == EnvRegistry.AntBullet ? "Bullet" : "MuJoCo")}, not {Engine}");
        if (spec.Id != EnvRegistry.Ant && Observation != ObservationKind.Standard)
            throw new ArgumentException($"{spec.Id} has one observation; {Observation} is the MuJoCo Ant's");
        if (MaxEpisodeSteps < 1) throw new ArgumentOutOfRangeException(nameof(MaxEpisodeSteps), MaxEpisodeSteps, "must be at least 1");
        if (!(ResetNoise >= 0) || double.IsInfinity(ResetNoise)) throw new ArgumentOutOfRangeException(nameof(ResetNoise), ResetNoise, "must be finite and >= 0");
    }
}
