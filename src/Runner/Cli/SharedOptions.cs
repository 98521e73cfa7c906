using System.CommandLine;
using CbpGpu.Agent.Settings;
using CbpGpu.Physics;

namespace CbpGpu.Runner.Cli;

/// <summary>Options that several commands take: one name, one parser and one range everywhere.</summary>
public static class SharedOptions
{
    private const int DefaultEnvs = 64;

    public static ChoiceOption<ObservationKind> Obs() => Choice<ObservationKind>(EnvSettings.Flags.Obs, "111", "");

    /// <param name="defaultWord">Null where the default depends on other options (train: the preset's), told by <paramref name="defaultNote"/>.</param>
    public static ChoiceOption<PhysicsEngine> Engine(string? defaultWord = "mujoco", string defaultNote = "") =>
        Choice<PhysicsEngine>(EnvSettings.Flags.Engine, defaultWord, defaultNote);

    /// <param name="defaultWord">Null where the default depends on other options (train: the preset's), told by <paramref name="defaultNote"/>.</param>
    public static ChoiceOption<string> Env(string? defaultWord = EnvRegistry.Ant, string defaultNote = "") =>
        Choice<string>(EnvSettings.Flags.Env, defaultWord, defaultNote);

    /// <summary>The option of a declared env setting (train's, docs/extending.md#settings) with this command's default.</summary>
    private static ChoiceOption<T> Choice<T>(Setting s, string? defaultWord, string defaultNote) =>
        new(s.Flag, s.Help + defaultNote, defaultWord, [.. s.Choices.Select(c => (c.Word, (T)c.Value))]);

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
    public static ObservationKind ObservationFor(ParseResult result, ChoiceOption<ObservationKind> obs, PhysicsEngine engine) =>
        ObservationFor(obs.Get(result), result.GetResult(obs) is { Implicit: false }, engine);

    /// <summary>As above, for the value read and whether --obs was given.</summary>
    public static ObservationKind ObservationFor(ObservationKind obs, bool given, PhysicsEngine engine)
    {
        if (engine != PhysicsEngine.MuJoCo && given)
            throw new UsageException($"{EnvSettings.Flags.Obs.Flag} applies to --engine mujoco only; the Bullet Ant observes 28 floats");
        return obs;
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

    public static Option<int> Threads(int defaultValue, string description) =>
        OptionFactory.Count("--threads", "N", description, defaultValue, 1, 256);
}
