using CbpGpu.Physics;

namespace CbpGpu.Agent.Settings;

/// <summary>
/// The environment side of a run: how many envs of which registry entry, what they observe, how friction changes. Each
/// preset brings its own env (the MuJoCo Ant, Bullet's for seed2023, hopper and walker2d for theirs); train --env and
/// --engine replace it.
/// </summary>
/// <param name="Ant">The env's task settings (<see cref="EnvConfig"/>; named Ant in config.json since the Ant was the only env).</param>
public sealed record EnvSettings(string Preset, int NumEnvs, EnvConfig Ant, FrictionConfig Friction)
{
    /// <summary>
    /// Envs of a preset when --envs is not given. The paper presets step ONE env for the whole 2,048-step rollout, as
    /// the authors' code does (GAE then bootstraps once per update, and samples are as correlated as in the paper);
    /// more envs are the throughput mode (docs/ppo.md#rollout).
    /// </summary>
    public static int DefaultEnvs(string preset) => preset is "nature2024" or "nature2024-ant" or "nature2024-hopper" or "nature2024-walker" ? 1 : 64;

    /// <summary>
    /// train --env: the registry entry <paramref name="envId"/> with its own reset noise and observation, under this
    /// preset's friction schedule and episode cap.
    /// </summary>
    public EnvSettings On(string envId) => this with { Ant = EnvRegistry.Get(envId).Defaults with { MaxEpisodeSteps = Ant.MaxEpisodeSteps } };

    /// <summary>Gym's Hopper-v3 as the authors ran it (lop/rl/cfg/hopper/): Gym's friction throughout, 1000-step episodes.</summary>
    public static EnvSettings NatureHopper(int numEnvs) =>
        new("nature2024-hopper", numEnvs, EnvRegistry.Get(EnvRegistry.Hopper).Defaults, FrictionConfig.Constant(1.0));

    /// <summary>Gym's Walker2d-v3 as the authors ran it (lop/rl/cfg/walker/): Gym's friction throughout, 1000-step episodes.</summary>
    public static EnvSettings NatureWalker(int numEnvs) =>
        new("nature2024-walker", numEnvs, EnvRegistry.Get(EnvRegistry.Walker2d).Defaults, FrictionConfig.Constant(1.0));

    /// <summary>The authors' released setup: friction log-uniform in [0.02, 2], redrawn after 2M steps at an episode end.</summary>
    public static EnvSettings Nature2024(int numEnvs, ObservationKind obs = ObservationKind.Standard) =>
        new("nature2024", numEnvs, new EnvConfig(obs, MaxEpisodeSteps: 1000), FrictionConfig.Nature2024);

    /// <summary>
    /// The reproduction report: friction 10^U(-4,4) every 10M steps, 500-step episodes (its cap, reported as
    /// termination), on the Bullet Ant as the report ran PyBullet's; there the friction is the floor's (docs/bullet-ant.md#friction).
    /// </summary>
    public static EnvSettings Seed2023(int numEnvs) =>
        new("seed2023", numEnvs, EnvConfig.Seed2023 with { Engine = PhysicsEngine.Bullet }, FrictionConfig.Seed2023);

    /// <summary>Plain Ant as in the paper's Fig. 4a: friction 1.0 throughout, 1000-step episodes (docs/friction.md#nature2024-ant).</summary>
    public static EnvSettings NatureAnt(int numEnvs, ObservationKind obs = ObservationKind.Standard) =>
        new("nature2024-ant", numEnvs, new EnvConfig(obs, MaxEpisodeSteps: 1000), FrictionConfig.Constant(1.0));

    /// <summary>Fixed friction (a sanity check that PPO learns at all).</summary>
    public static EnvSettings Constant(int numEnvs, double friction, ObservationKind obs = ObservationKind.Standard) =>
        new("constant", numEnvs, new EnvConfig(obs, MaxEpisodeSteps: 1000), FrictionConfig.Constant(friction));
}
