using System.Collections.Concurrent;

namespace CbpGpu.Physics;

/// <summary>
/// The envs this build knows by id (docs/extending.md#adding-an-environment). The built-in ones are registered here;
/// <see cref="Register"/> adds one from anywhere (a test project, a plug-in) before a run names it.
/// </summary>
public static class EnvRegistry
{
    public const string Ant = "ant", AntBullet = "ant-bullet", Hopper = "hopper", Walker2d = "walker2d", HalfCheetah = "halfcheetah";

    private static readonly ConcurrentDictionary<string, EnvSpec> Specs = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<EnvConfig, (int, int)> SizeCache = new();

    static EnvRegistry()
    {
        Register(new EnvSpec(Ant, "Gym's Ant-v3 on MuJoCo (docs/ant.md); friction: every geom's sliding friction",
            "hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3 motor commands",
            new EnvConfig(), (c, seed, i, f) => new SlipperyAnt(c, seed, i, f), SlipperyAnt.View));
        Register(new EnvSpec(AntBullet, "PyBullet's AntBulletEnv-v0 on Bullet (docs/bullet-ant.md); friction: the floor's lateral friction",
            "torques / 250 for hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3, hip_4, ankle_4",
            new EnvConfig(Engine: PhysicsEngine.Bullet), (c, seed, i, f) => new BulletAnt(c, seed, i, f), BulletAnt.View));
        Register(new EnvSpec(Hopper, "Gym's Hopper-v3 on MuJoCo (docs/gym-mujoco.md#bodies); friction: scales every geom's sliding friction",
            "thigh, leg, foot motor commands",
            new EnvConfig(ResetNoise: 5e-3, Name: Hopper), (c, seed, i, f) => new HopperEnv(c, seed, i, f), HopperEnv.View));
        Register(new EnvSpec(Walker2d, "Gym's Walker2d-v3 on MuJoCo (docs/gym-mujoco.md#bodies); friction: scales every geom's sliding friction",
            "right thigh, leg, foot, left thigh, leg, foot motor commands",
            new EnvConfig(ResetNoise: 5e-3, Name: Walker2d), (c, seed, i, f) => new Walker2dEnv(c, seed, i, f), Walker2dEnv.View));
        Register(new EnvSpec(HalfCheetah, "Gym's HalfCheetah-v3 on MuJoCo (docs/gym-mujoco.md#bodies); friction: scales every geom's sliding friction",
            "back thigh, shin, foot, front thigh, shin, foot motor commands",
            new EnvConfig(ResetNoise: 0.1, Name: HalfCheetah), (c, seed, i, f) => new HalfCheetahEnv(c, seed, i, f), HalfCheetahEnv.View));
    }

    /// <summary>
    /// Adds <paramref name="spec"/>; an id may be registered once. The Ant's two entries leave <see cref="EnvConfig.Name"/>
    /// null (their id follows from the engine, so their config.json is as it was before the registry); every other
    /// entry's defaults name it.
    /// </summary>
    public static void Register(EnvSpec spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.Id);
        if (spec.Defaults.Id != spec.Id) throw new ArgumentException($"the defaults of {spec.Id} name {spec.Defaults.Id}", nameof(spec));
        if (!Specs.TryAdd(spec.Id, spec)) throw new ArgumentException($"an env {spec.Id} is registered already", nameof(spec));
    }

    /// <summary>The ids, built-in ones first in the order above.</summary>
    public static IReadOnlyList<string> Names => [.. Specs.Keys.OrderBy(Rank).ThenBy(k => k, StringComparer.Ordinal)];

    private static int Rank(string id) => id switch { Ant => 0, AntBullet => 1, Hopper => 2, Walker2d => 3, HalfCheetah => 4, _ => 5 };

    public static bool Contains(string id) => Specs.ContainsKey(id);

    public static EnvSpec Get(string id) => Specs.TryGetValue(id, out var spec) ? spec
        : throw new ArgumentException($"unknown env '{id}'; the registered envs are {string.Join(", ", Names)}", nameof(id));

    /// <summary>Env <paramref name="index"/> of a run with <paramref name="seed"/>, at <paramref name="friction"/>.</summary>
    public static IEnv Create(EnvConfig config, ulong seed, int index, double friction) => Get(config.Id).EntryPoint(config, seed, index, friction);

    /// <summary>The observation and action sizes of <paramref name="config"/>'s env, read from one instance (made once per config).</summary>
    public static (int Observation, int Action) Sizes(EnvConfig config) => SizeCache.GetOrAdd(config, c =>
    {
        using var env = Create(c, seed: 0, index: 0, friction: 1.0);
        return (env.ObservationSize, env.ActionSize);
    });
}
