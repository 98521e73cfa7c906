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

    /// <summary>--frictions' word for values drawn from the seed (docs/friction.md#the-authors-table).</summary>
    public const string DrawFrictions = "draw";

    /// <summary>
    /// The env's settings a flag sets, declared once (docs/extending.md#settings). The preset picks the env, its engine
    /// and its friction; these replace them by rules that check how they combine, so each is read by a rule of train.
    /// </summary>
    public static class Flags
    {
        public static readonly Setting Env = Setting<EnvSettings>.Choice(
            "--env", "the environment (docs/extending.md#adding-an-environment): " +
            string.Join("; ", EnvRegistry.Names.Select(id => $"{id}: {EnvRegistry.Get(id).Summary}")), "Ant.Name",
            [.. EnvRegistry.Names.Select(id => (id, id))], e => e.Ant.Name!, (e, v) => e.On(v)) with
        {
            ReadByRule = true,
            DefaultNote = " (default: the --preset's: hopper for nature2024-hopper, walker2d for nature2024-walker, the Ant otherwise)",
            AppliesTo = e => ((EnvSettings)e).Ant.Name is not null,
        };

        public static readonly Setting Engine = Setting<EnvSettings>.Choice(
            "--engine",
            "physics: mujoco (Gym's Ant-v3); bullet (PyBullet's AntBulletEnv-v0, quirks included, 28-float observation); " +
            "bullet-fixed (bullet without the quirks docs/bullet-ant.md#quirks lists as worth switching off)", "Ant.Engine",
            [("mujoco", PhysicsEngine.MuJoCo), ("bullet", PhysicsEngine.Bullet), ("bullet-fixed", PhysicsEngine.BulletFixed)],
            e => e.Ant.Engine, (e, v) => e with { Ant = e.Ant with { Engine = v } }) with
        {
            ReadByRule = true,
            DefaultNote = " (default: the --preset's: bullet for seed2023, as the report ran; mujoco for nature2024, nature2024-ant and constant)",
        };

        public static readonly Setting Obs = Setting<EnvSettings>.Choice(
            "--obs",
            "observation: 111 floats with the contact forces zero, as published; 27 without the contact forces; " +
            "contact: the 111 with real contact forces (mj_rnePostConstraint)", "Ant.Observation",
            [("111", ObservationKind.Standard), ("27", ObservationKind.NoContact), ("contact", ObservationKind.RealContact)],
            e => e.Ant.Observation, (e, v) => e with { Ant = e.Ant with { Observation = v } }) with
        {
            Default = ObservationKind.Standard,
            ReadByRule = true,
            AppliesTo = e => ((EnvSettings)e).Ant.Engine == PhysicsEngine.MuJoCo,
        };

        /// <summary>--friction's range: any friction the physics takes.</summary>
        public const double MinFriction = 1e-6, MaxFriction = 1e6;

        public static readonly Setting Friction = Setting<EnvSettings>.Real(
            "--friction", "F", "friction for --preset constant (1e-6 to 1,000,000)", "Friction.ConstantFriction", MinFriction, MaxFriction,
            e => e.Friction.ConstantFriction, (e, v) => e with { Friction = FrictionConfig.Constant(v) }) with
        {
            Default = 1.0,
            ReadByRule = true,
            AppliesTo = e => ((EnvSettings)e).Preset == "constant",
        };

        public static readonly Setting Frictions = Setting<EnvSettings>.Text(
            "--frictions", $"FILE|{FrictionTable.Authors}|{DrawFrictions}",
            "where a run's friction values come from, for presets whose friction changes: a table FILE used in order (one line " +
            "per seed, data line k is seed k, values separated by commas or spaces, '#' comments); " +
            $"{FrictionTable.Authors}: the authors' table (seeds 0-{FrictionTable.AuthorsSeeds - 1}, docs/friction.md#the-authors-table); {DrawFrictions}: drawn from the seed",
            "Friction.TableSource", e => e.Friction.TableSource ?? DrawFrictions,
            (e, v) => e with { Friction = e.Friction with { TableSource = v == DrawFrictions ? null : v } }) with
        {
            ReadByRule = true,
            DefaultNote = $" (default: nature2024 {FrictionTable.Authors} for seeds 0-{FrictionTable.AuthorsSeeds - 1}, else {DrawFrictions}; seed2023 {DrawFrictions})",
            AppliesTo = e => ((EnvSettings)e).Friction.Protocol != FrictionProtocol.Constant,
        };

        public static readonly Setting ChangeEvery = Setting<EnvSettings>.LongCount(
            "--change-every", "N", "friction period in env steps summed over envs, for short experiments", "Friction.ChangeEverySteps", 1L, 10_000_000_000L,
            e => e.Friction.ChangeEverySteps, (e, v) => e with { Friction = e.Friction with { ChangeEverySteps = v } }) with
        {
            ReadByRule = true,
            DefaultNote = $" (default: the preset's: nature2024 {FrictionConfig.Nature2024.ChangeEverySteps:N0} (then at each env's episode end), " +
                $"seed2023 {FrictionConfig.Seed2023.ChangeEverySteps:N0})",
            // Given where it is not the preset's own period.
            AppliesTo = e => ((EnvSettings)e).Friction is { Protocol: not FrictionProtocol.Constant } f
                && f.ChangeEverySteps != (((EnvSettings)e).Preset == "seed2023" ? FrictionConfig.Seed2023 : FrictionConfig.Nature2024).ChangeEverySteps,
        };

        public static readonly Setting Envs = Setting<EnvSettings>.Count(
            "--envs", "N", "parallel envs, each stepped --batch-size / N steps per update; must divide --batch-size", nameof(NumEnvs), 1, 1 << 16,
            e => e.NumEnvs, (e, v) => e with { NumEnvs = v }) with
        {
            ReadByRule = true,
            DefaultNote = $" (default: with --learner seed2023 (--preset seed2023's own) {PpoSettings.Seed2023Envs} (x {PpoSettings.Seed2023(PpoMethod.Standard).BatchSize / PpoSettings.Seed2023Envs:N0} steps, as the report); " +
                $"with --learner nature2024 the preset's: nature2024 and nature2024-ant " +
                $"{DefaultEnvs("nature2024")} env x {PpoSettings.For(PpoMethod.Standard).BatchSize / DefaultEnvs("nature2024"):N0} steps, as the paper; " +
                $"seed2023 {DefaultEnvs("seed2023")}, constant {DefaultEnvs("constant")})",
        };

        /// <summary>In --help's order.</summary>
        public static IReadOnlyList<Setting> All { get; } = [Env, Engine, Obs, Friction, Frictions, ChangeEvery, Envs];
    }
}
