using System.CommandLine;
using CbpGpu.Physics;

namespace CbpGpu.Runner.Cli;

/// <summary>Options that several commands take: one name, one parser and one range everywhere.</summary>
public static class SharedOptions
{
    private const int DefaultEnvs = 64;

    public static ChoiceOption<ObservationKind> Obs() => new(
        "--obs",
        "observation: 111 floats with the contact forces zero, as published; 27 without the contact forces; " +
        "contact: the 111 with real contact forces (mj_rnePostConstraint)",
        "111",
        ("111", ObservationKind.Standard), ("27", ObservationKind.NoContact), ("contact", ObservationKind.RealContact));

    /// <param name="defaultWord">Null where the default depends on other options (train: the preset's), told by <paramref name="defaultNote"/>.</param>
    public static ChoiceOption<PhysicsEngine> Engine(string? defaultWord = "mujoco", string defaultNote = "") => new(
        "--engine",
        "physics: mujoco (Gym's Ant-v3); bullet (PyBullet's AntBulletEnv-v0, quirks included, 28-float observation); " +
        "bullet-fixed (bullet without the quirks docs/bullet-ant.md#quirks lists as worth switching off)" + defaultNote,
        defaultWord,
        ("mujoco", PhysicsEngine.MuJoCo), ("bullet", PhysicsEngine.Bullet), ("bullet-fixed", PhysicsEngine.BulletFixed));

    /// <param name="defaultWord">Null where the default depends on other options (train: the preset's), told by <paramref name="defaultNote"/>.</param>
    public static ChoiceOption<string> Env(string? defaultWord = EnvRegistry.Ant, string defaultNote = "") => new(
        "--env",
        "the environment (docs/extending.md#adding-an-environment): " +
        string.Join("; ", EnvRegistry.Names.Select(id => $"{id}: {EnvRegistry.Get(id).Summary}")) + defaultNote,
        defaultWord,
        [.. EnvRegistry.Names.Select(id => (id, id))]);

    /// <summary>
    /// replay and bench-env: the --env entry with --engine and --obs applied (--engine bullet or bullet-fixed picks the
    /// Bullet Ant; --obs is the MuJoCo Ant's).
    /// </summary>
    public static EnvConfig EnvFor(ParseResult result, ChoiceOption<string> env, ChoiceOption<ObservationKind> obs, ChoiceOption<PhysicsEngine> engine)
    {
        string id = env.Get(result);
        var physics = engine.Get(result);
        if (physics != PhysicsEngine.MuJoCo)
        {
            if (id is not (EnvRegistry.Ant or EnvRegistry.AntBullet))
                throw new UsageException($"{engine.Name} {engine.WordFor(physics)} applies to the Ant only; {id} runs on MuJoCo");
            id = EnvRegistry.AntBullet;
        }
        else if (id == EnvRegistry.AntBullet) physics = PhysicsEngine.Bullet;
        var kind = ObservationFor(result, obs, physics);
        if (kind != ObservationKind.Standard && id != EnvRegistry.Ant)
            throw new UsageException($"{obs.Name} applies to the MuJoCo Ant only; {id} has one observation");
        return EnvRegistry.Get(id).Defaults with { Engine = physics, Observation = kind };
    }

    /// <summary>The --obs chosen; the Bullet Ant has only its 28 floats, so --obs with another engine is a usage error.</summary>
    public static ObservationKind ObservationFor(ParseResult result, ChoiceOption<ObservationKind> obs, PhysicsEngine engine)
    {
        if (engine != PhysicsEngine.MuJoCo && result.GetResult(obs) is { Implicit: false })
            throw new UsageException($"{obs.Name} applies to --engine mujoco only; the Bullet Ant observes 28 floats");
        return obs.Get(result);
    }

    /// <param name="defaultValue">Null makes the option required.</param>
    public static Option<double?> Friction(string description, double? defaultValue)
    {
        const double min = 1e-6, max = 1e6;
        var option = OptionFactory.OptionalReal(
            "--friction", "F", $"{description} ({ScaledNumber.Format(min)} to {ScaledNumber.Format(max)})", min, max);
        if (defaultValue is double d) option.DefaultValueFactory = _ => d;
        else option.Required = true;
        return option;
    }

    public static Option<int> Envs(int max, string description) =>
        OptionFactory.Count("--envs", "N", description, DefaultEnvs, 1, max);

    /// <summary>--envs whose default depends on other options (train: the preset's), so none is shown in help.</summary>
    public static Option<int?> OptionalEnvs(int max, string description) =>
        OptionFactory.OptionalCount("--envs", "N", description, 1, max);

    public static Option<int> Threads(int defaultValue, string description) =>
        OptionFactory.Count("--threads", "N", description, defaultValue, 1, 256);
}
