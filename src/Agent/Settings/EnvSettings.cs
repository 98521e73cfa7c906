using CbpGpu.Physics;

namespace CbpGpu.Agent.Settings;

/// <summary>
/// The environment side of a run: how many Ants, on which physics, what they observe, how friction changes. Each preset
/// brings its own physics (MuJoCo, or Bullet for seed2023); train --engine replaces it.
/// </summary>
public sealed record EnvSettings(string Preset, int NumEnvs, AntConfig Ant, FrictionConfig Friction)
{
    /// <summary>
    /// Envs of a preset when --envs is not given. The paper presets step ONE env for the whole 2,048-step rollout, as
    /// the authors' code does (GAE then bootstraps once per update, and samples are as correlated as in the paper);
    /// more envs are the throughput mode (docs/ppo.md#rollout).
    /// </summary>
    public static int DefaultEnvs(string preset) => preset is "nature2024" or "nature2024-ant" ? 1 : 64;

    /// <summary>The authors' released setup: friction log-uniform in [0.02, 2], redrawn after 2M steps at an episode end.</summary>
    public static EnvSettings Nature2024(int numEnvs, ObservationKind obs = ObservationKind.Standard) =>
        new("nature2024", numEnvs, new AntConfig(obs, MaxEpisodeSteps: 1000), FrictionConfig.Nature2024);

    /// <summary>
    /// The reproduction report: friction 10^U(-4,4) every 10M steps, 500-step episodes (its cap, reported as
    /// termination), on the Bullet Ant as the report ran PyBullet's; there the friction is the floor's (docs/bullet-ant.md#friction).
    /// </summary>
    public static EnvSettings Seed2023(int numEnvs) =>
        new("seed2023", numEnvs, AntConfig.Seed2023 with { Engine = PhysicsEngine.Bullet }, FrictionConfig.Seed2023);

    /// <summary>Plain Ant as in the paper's Fig. 4a: friction 1.0 throughout, 1000-step episodes (docs/friction.md#nature2024-ant).</summary>
    public static EnvSettings NatureAnt(int numEnvs, ObservationKind obs = ObservationKind.Standard) =>
        new("nature2024-ant", numEnvs, new AntConfig(obs, MaxEpisodeSteps: 1000), FrictionConfig.Constant(1.0));

    /// <summary>Fixed friction (a sanity check that PPO learns at all).</summary>
    public static EnvSettings Constant(int numEnvs, double friction, ObservationKind obs = ObservationKind.Standard) =>
        new("constant", numEnvs, new AntConfig(obs, MaxEpisodeSteps: 1000), FrictionConfig.Constant(friction));
}
