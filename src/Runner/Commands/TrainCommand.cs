using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using CbpGpu.Agent;
using CbpGpu.Agent.Libtorch;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>`Runner train`: PPO on Slippery Ant with one of the registered plasticity methods (docs/ppo.md#methods, docs/extending.md).</summary>
public sealed class TrainCommand : RunnerCommand
{
    private const string Nature2024 = "nature2024", NatureAnt = "nature2024-ant", Seed2023 = "seed2023", Constant = "constant",
        NatureHopper = "nature2024-hopper", NatureWalker = "nature2024-walker";
    private const string DrawFrictions = EnvSettings.DrawFrictions;

    // Flags that are not settings: which method and presets run, where the run goes, whether it continues, where libtorch
    // comes from. Every setting's flag is derived from its declaration (TrainSettings.Blocks, docs/extending.md#settings).
    private readonly ChoiceOption<PpoMethod> _method = new(
        "--method",
        string.Join("; ", MethodRegistry.All.Select(m => $"{m.Word}: {m.Summary}")) +
        $"; with --learner {Seed2023} (eps 1e-5): " +
        string.Join(", ", MethodRegistry.All.Select(m => $"{m.Word} Adam {ScaledNumber.Format(m.Seed2023Adam.Beta1)}/{ScaledNumber.Format(m.Seed2023Adam.Beta2)}" +
            (m.Seed2023Adam.WeightDecay > 0 ? $" + L2 {ScaledNumber.Format(m.Seed2023Adam.WeightDecay)}" : ""))) + " (docs/learners.md)",
        MethodRegistry.Default.Word,
        [.. MethodRegistry.All.Select(m => (m.Word, m.Id))]);

    private readonly Option<string> _out = OptionFactory.Text(
        "--out", "DIR", $"run directory: {RunDirectory.ConfigFile}, {RunDirectory.EpisodesFile}, {RunDirectory.UpdatesFile}, {RunDirectory.EvalFile} (with evaluation on), {RunDirectory.SessionsFile}, {RunDirectory.CheckpointFile} " +
        $"(default: runs/<method>-<preset>-seed-<seed>, e.g. runs/{MethodRegistry.Default.Word}-nature2024-seed-0)", required: false);

    private readonly ChoiceOption<string> _preset = new(
        "--preset",
        "nature2024: friction log-U[0.02,2] redrawn every >=2M steps; nature2024-ant: plain Ant, friction 1.0 throughout " +
        "(the paper's Fig. 4a); seed2023: the report's task on the Bullet Ant, floor friction 10^U(-4,4) every 10M steps, 500-step " +
        "episodes; constant: fixed friction " +
        "(see --friction); nature2024-hopper, nature2024-walker: Gym's Hopper-v3 and Walker2d-v3 as the authors ran them (Gym's friction). " +
        "Also the default --learner" + string.Concat(MethodRegistry.Schemas.Select(s => $" and {s.PresetFlag}")),
        Nature2024,
        (Nature2024, Nature2024), (NatureAnt, NatureAnt), (Seed2023, Seed2023), (Constant, Constant), (NatureHopper, NatureHopper), (NatureWalker, NatureWalker));

    private readonly ChoiceOption<string> _learner = new(
        "--learner",
        "PPO and its networks: nature2024 (the authors': ReLU, LeCun init, Adam eps 1e-8, value coef 1, no clipping, " +
        $"advantages per batch, {RolloutShape(EnvSettings.DefaultEnvs(Nature2024), PpoSettings.For(PpoMethod.Standard).BatchSize)} under the paper presets) " +
        "or seed2023 (the report's Stable-Baselines3 PPO: Tanh, orthogonal init, " +
        $"eps 1e-5, value coef 0.5, grad norm 0.5, advantages per minibatch, {RolloutShape(PpoSettings.Seed2023Envs, PpoSettings.Seed2023(PpoMethod.Standard).BatchSize)}); " +
        "default: the --preset's own (nature2024 for constant)",
        defaultWord: null, [.. PpoSettings.Learners.Select(l => (l.Word, l.Word))]);

    private readonly Option<bool> _resume = OptionFactory.Switch(
        "--resume", "continue the run in --out from its checkpoint (same flags; --steps may change, not below the steps done)");

    private readonly Option<bool> _resumeIfPresent = OptionFactory.Switch(
        "--resume-if-present", "--resume when --out holds a run, else start one (what a sweep, a requeued or resubmitted Slurm task runs)");

    private readonly Option<string> _libtorch = OptionFactory.Text(
        LibtorchSearch.Option, "DIR",
        $"load libtorch from DIR (a PyTorch install's torch/lib or a libtorch/lib) in a build that carries none (scripts/bundle.sh); " +
        $"default: this app's own, else {LibtorchSearch.EnvironmentVariable}, else the PyTorch python3 imports", required: false);

    private readonly Option<string> _config = ConfigArguments.Option();

    /// <summary>Each block's settings as options, in --help's order; <see cref="_byFlag"/> finds one by its declaration.</summary>
    private readonly IReadOnlyList<(TrainSettings.Block Block, SettingOption[] Options)> _blocks =
        [.. TrainSettings.Blocks.Select(b => (b, b.Settings.Select(s => SettingOption.Create(s, (b == TrainSettings.Learner ? LearnerDefaults(s) : "") + s.DefaultNote)).ToArray()))];

    private readonly Dictionary<string, SettingOption> _byFlag;

    private readonly IReadOnlyList<MethodSettingsOptions> _methodOptions = [.. MethodRegistry.Schemas.Select(s => new MethodSettingsOptions(s))];

    public TrainCommand() : base("train", $"train PPO ({string.Join(" | ", MethodRegistry.All.Select(m => m.Word))}) on Slippery Ant, with logs and checkpoints", $"""
        {MethodOptionsHelp()}The options
        from --activation to --minibatch-size each take --learner's value when left out (docs/learners.md).

        {RunDirectory.UpdatesFile} has per update: losses, mean |w| per layer, replaced_<layer> (units a method re-initialised during the
        update), age_<bin>_<layer> (units per age bin, age = optimizer steps since (re)initialisation), the method's own columns and timings.

        Threads: env stepping and the PPO update take turns, so each may use every core. On the 2-core dev
        machine torch is fastest with 1 thread: 2 threads made the update slower (0.61 s vs 0.40 s per update)
        with sleeping OpenMP threads, and with spinning ones (GOMP_SPINCOUNT=20000) faster when the machine is
        idle (3,900 vs 3,200 steps/s overall) but slower as soon as other processes compete (1,360 vs 1,770).
        Unless OMP_WAIT_POLICY is set, OpenMP threads sleep while idle (spinning ones collapsed throughput).

        Stopping: the first SIGINT (Ctrl+C), SIGTERM or SIGHUP finishes the current update, writes the checkpoint
        and the logs, prints the command that continues the run, and exits with 128 + the signal number (130, 143,
        129); a second signal kills. Exit codes: 0 finished, 1 refused or failed, 2 bad options.
        """)
    {
        _byFlag = _blocks.SelectMany(b => b.Options).ToDictionary(o => o.Setting.Flag);
        Option[] all =
        [
            _method, _out, _preset, _resume, _resumeIfPresent, _libtorch,
            .. _blocks.SelectMany(b => b.Block == TrainSettings.Learner ? [_learner, .. b.Options.Select(o => o.Option)] : b.Options.Select(o => o.Option)),
            .. _methodOptions.SelectMany(m => m.All), _config,
        ];
        foreach (var option in all) Add(option);
        PerRunOptions = [.. all.Except<Option>([_method, OptionOf(RunSettings.Flags.Seed).Option, _out, _resume, _resumeIfPresent])];
        SetAction(Run);
    }

    /// <summary>
    /// train's flags that are not settings: the method and the presets that settings start from (--learner is listed
    /// before the learner's settings), where the run goes, resuming, libtorch and --config.
    /// </summary>
    public IReadOnlyList<Option> NotSettings => [_method, _out, _preset, _learner, _resume, _resumeIfPresent, _libtorch, _config];

    /// <summary>The option of each declared setting (<see cref="TrainSettings.Blocks"/> and the methods' schemas), for tests.</summary>
    public IEnumerable<SettingOption> SettingOptions => _blocks.SelectMany(b => b.Options).Concat(_methodOptions.SelectMany(m => m.Settings));

    /// <summary>What a sweep hands to each of its runs: every option except those that name one run (method, seed, directory, resume).</summary>
    public IReadOnlyList<Option> PerRunOptions { get; }

    /// <summary>Options of a method's own settings: each applies to the methods of its schema only.</summary>
    public IReadOnlyList<MethodSettingsOptions> MethodOptions => _methodOptions;

    /// <summary>Whether <paramref name="option"/> applies to <paramref name="method"/>: every option but a method-settings option of another method's.</summary>
    public bool AppliesTo(Option option, PpoMethod method) =>
        _methodOptions.FirstOrDefault(m => m.All.Contains(option)) is not { } owner || owner.Methods.Any(m => m.Id == method);

    /// <summary>The methods <paramref name="option"/> applies to only, or null when it applies to every method.</summary>
    public MethodSettingsOptions? OwnerOf(Option option) => _methodOptions.FirstOrDefault(m => m.All.Contains(option));

    /// <summary>The method --method's word names (any case), or null.</summary>
    public PpoMethod? MethodOf(string word) => MethodRegistry.FindWord(word)?.Id;

    /// <summary>"Options marked CBP apply to --method cbp only; ...": one sentence per methods' settings, for the help.</summary>
    private static string MethodOptionsHelp() => string.Concat(MethodRegistry.Schemas.Select(s =>
        $"Options marked {s.Title} apply to --method {string.Join(" or ", MethodRegistry.Using(s).Select(m => m.Word))} only; each one left out takes its {s.PresetFlag}'s value. "));

    public IReadOnlyList<string> MethodWords => _method.Words;

    /// <summary>
    /// The flags that ask for <paramref name="c"/> (for --config FILE, docs/sweeps.md#config): the method, the presets and
    /// every declared setting that applies to <paramref name="c"/>, given explicitly. The learner preset fixes what no
    /// flag sets (Adam's betas).
    /// </summary>
    public IEnumerable<(Option Option, string[] Values)> FlagsFor(TrainConfig c)
    {
        yield return (_method, [_method.WordFor(c.Ppo.Method)]);
        yield return (_preset, [c.Env.Preset]);
        foreach (var (block, options) in _blocks)
        {
            if (block == TrainSettings.Learner) yield return (_learner, [IsSeed2023Learner(c.Ppo) ? Seed2023 : Nature2024]);
            object record = block.Of(c);
            foreach (var o in options)
                if (o.Setting.AppliesTo(record)) yield return (o.Option, [o.Setting.Format(o.Setting.Get(record))]);
        }
        if (c.MethodSettings is not { } settings) yield break;
        var schema = MethodRegistry.Get(c.Ppo.Method).Settings;
        foreach (var flag in _methodOptions.First(m => m.Schema == schema).FlagsFor(settings)) yield return flag;
    }

    /// <summary>
    /// Whether <paramref name="ppo"/>'s Adam is the seed2023 learner's for its method: its betas and eps are that
    /// preset's and not the nature2024 one's (std has the same betas in both, so the eps tells them apart; issue 25),
    /// else its betas are seed2023's.
    /// </summary>
    public static bool IsSeed2023Learner(PpoSettings ppo)
    {
        var method = MethodRegistry.Get(ppo.Method);
        static bool Same(AdamSettings a, AdamSettings b, bool eps) => a.Beta1 == b.Beta1 && a.Beta2 == b.Beta2 && (!eps || a.Eps == b.Eps);
        if (Same(ppo.Adam, method.Nature2024Adam, eps: true)) return false;
        return Same(ppo.Adam, method.Seed2023Adam, eps: true) || Same(ppo.Adam, method.Seed2023Adam, eps: false);
    }

    /// <summary>"1 env x 2,048 steps": a learner's rollout per update, for the help.</summary>
    private static string RolloutShape(int envs, int batch) =>
        string.Create(CultureInfo.InvariantCulture, $"{envs} env{(envs == 1 ? "" : "s")} x {batch / envs:N0} steps");

    /// <summary>
    /// A learner setting's defaults for --help: each --learner preset's value (std's), or, where each method declares its
    /// own (<see cref="Setting.PerMethod"/>), that it comes from --method too.
    /// </summary>
    private static string LearnerDefaults(Setting s)
    {
        if (s.Default is not null) return "";
        // Learner defaults are shown as plain numbers (2048, not 2,048).
        string Shown(object value) => s.Kind == SettingKind.Count ? ScaledNumber.Format((int)value) : SettingOption.Shown(s, value);
        if (!s.PerMethod)
            return $" (default from --learner: {string.Join(", ", PpoSettings.Learners.Select(l => $"{l.Word} {Shown(s.Get(l.Preset(PpoMethod.Standard)))}"))})";
        var values = MethodRegistry.All.SelectMany(m => PpoSettings.Learners.Select(l => s.Get(l.Preset(m.Id)))).Distinct().ToList();
        return values.Count == 1 ? $" (default from --method and --learner: {Shown(values[0])} for every method)" : "; default from --method and --learner";
    }

    private SettingOption OptionOf(Setting s) => _byFlag[s.Flag];

    /// <summary>The value of <paramref name="s"/>'s flag (else its fixed default), or null.</summary>
    private object? Value(ParseResult result, Setting s) => OptionOf(s).Read(result);

    private bool Given(ParseResult result, Setting s) => OptionOf(s).Given(result);

    private static bool Given(ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary><paramref name="record"/> with each of <paramref name="settings"/> that no rule reads set to its flag's value (given, else its default).</summary>
    private T Apply<T>(ParseResult result, IReadOnlyList<Setting> settings, T record) where T : class
    {
        object applied = record;
        foreach (var s in settings)
            if (!s.ReadByRule && Value(result, s) is { } value) applied = s.With(applied, value);
        return (T)applied;
    }

    /// <summary>The run these options ask for; throws <see cref="UsageException"/> for combinations that cannot run.</summary>
    public TrainRequest Read(ParseResult result)
    {
        var method = _method.Get(result);
        string preset = _preset.Get(result);
        if (preset != Constant && Given(result, EnvSettings.Flags.Friction))
            throw new UsageException($"--friction only applies to --preset {Constant}; drop it or add --preset {Constant}");
        var plasticity = MethodRegistry.Get(method);
        var methodSettings = ReadMethodSettings(result, plasticity, preset);
        var run = Apply(result, RunSettings.Flags.All, RunSettings.Defaults);
        if (plasticity.UsageProblem(methodSettings, run.Optimizer, run.Device) is string methodProblem) throw new UsageException(methodProblem);

        var notes = new List<string>();
        var (ppo, envs) = ReadLearner(result, method, preset);
        if (ppo.Validate(envs) is string problem) throw new UsageException($"--envs {envs}: {problem}");
        string? outDir = result.GetValue(_out);
        if (outDir is null)
        {
            outDir = DefaultOut(method, Value(result, EnvSettings.Flags.Env) is string named ? $"{preset}-{named}" : preset, run.Seed);
            notes.Add($"note: no --out given; the run's directory is {outDir}");
        }
        // --resume without --steps keeps the run's own budget, not the preset's (issue 25).
        long? recorded = result.GetValue(_resume) && !Given(result, RunSettings.Flags.Steps) ? RecordedSteps(outDir) : null;
        if (recorded is long kept)
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"note: --resume without --steps keeps the run's budget of {kept:N0} steps ({RunDirectory.ConfigFile}); give --steps to change it"));
        var (steps, note) = WholeUpdates(result, preset, ppo.BatchSize, recorded);
        if (note is not null) notes.Add(note);
        run = run with { TotalSteps = steps };

        var env = ReadEnv(result, preset, envs, run.Seed, steps, notes);
        var videos = Apply(result, EvalSettings.Flags.All, EvalSettings.Off);
        if (videos.VideosEnabled && !CbpGpu.Agent.Rendering.TrainingVideo.Renders(env.Ant))
            throw new UsageException($"--video-every draws envs that declare a view (docs/render.md#envs), and {env.Ant.Id} declares none; drop --video-every");
        var config = new TrainConfig(env, ppo, run, methodSettings) { Eval = ReadEval(result, preset, videos) };
        if (config.Validate() is string invalid) throw new UsageException(invalid);
        return new TrainRequest(config, outDir, result.GetValue(_resume), notes);
    }

    /// <summary>The --preset's env with --env, --engine, --obs, --change-every and --frictions applied, each by its rule.</summary>
    private EnvSettings ReadEnv(ParseResult result, string preset, int envs, ulong seed, long steps, List<string> notes)
    {
        var env = preset switch
        {
            Seed2023 => EnvSettings.Seed2023(envs),
            Constant => EnvSettings.Constant(envs, (double)Value(result, EnvSettings.Flags.Friction)!),
            NatureAnt => EnvSettings.NatureAnt(envs),
            NatureHopper => EnvSettings.NatureHopper(envs),
            NatureWalker => EnvSettings.NatureWalker(envs),
            _ => EnvSettings.Nature2024(envs),
        };
        if (Value(result, EnvSettings.Flags.Env) is string envId) env = env.On(envId);
        // The preset brings its physics (seed2023: Bullet, as the report ran); --engine replaces it.
        var chosen = (PhysicsEngine?)Value(result, EnvSettings.Flags.Engine);
        bool engineGiven = chosen is not null;
        var engine = chosen ?? env.Ant.Engine;
        bool obsGiven = Given(result, EnvSettings.Flags.Obs);
        if (!engineGiven && engine != PhysicsEngine.MuJoCo && obsGiven)
            throw new UsageException($"--obs applies to --engine mujoco only, and --preset {preset} runs on the Bullet Ant (28 floats); add --engine mujoco or drop --obs");
        var obs = SharedOptions.ObservationFor((ObservationKind)Value(result, EnvSettings.Flags.Obs)!, obsGiven, engine);
        env = env with { Ant = env.Ant with { Engine = engine, Observation = obs } };
        if (Value(result, EnvSettings.Flags.ChangeEvery) is long period)
        {
            if (env.Friction.Protocol == FrictionProtocol.Constant)
                throw new UsageException($"--change-every does not apply to --preset {preset} (its friction never changes); drop it or choose {Nature2024} or {Seed2023}");
            env = env with { Friction = env.Friction with { ChangeEverySteps = period } };
        }
        (var friction, string? frictionNote) = ReadFrictionValues(result, preset, env.Friction, seed, steps);
        if (frictionNote is not null) notes.Add(frictionNote);
        return env with { Friction = friction };
    }

    /// <summary>
    /// The step budget config.json in <paramref name="outDir"/> records (Run.TotalSteps), or null when there is none to
    /// read; the trainer then refuses the resume with its own message.
    /// </summary>
    private static long? RecordedSteps(string outDir)
    {
        string path = Path.Combine(outDir, RunDirectory.ConfigFile);
        try
        {
            return File.Exists(path) ? TrainConfig.FromJson(File.ReadAllText(path)).Run.TotalSteps : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or NotSupportedException or InvalidOperationException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// --frictions: a table file, the authors' table or drawn values; by default nature2024 seeds 0-99 take their row of
    /// the authors' table and every other run draws (docs/friction.md#the-authors-table).
    /// </summary>
    private (FrictionConfig Friction, string? Note) ReadFrictionValues(ParseResult result, string preset, FrictionConfig friction, ulong seed, long steps)
    {
        string? given = (string?)Value(result, EnvSettings.Flags.Frictions);
        if (friction.Protocol == FrictionProtocol.Constant)
        {
            if (given is null) return (friction, null);
            throw new UsageException($"--frictions only applies to presets whose friction changes ({Nature2024}, {Seed2023}); drop it or pick one of those");
        }
        int needed = FrictionTable.ValuesNeeded(friction, steps);
        string? note = null;
        string source = given ?? DrawFrictions;
        if (given is null && preset == Nature2024 && seed < FrictionTable.AuthorsSeeds)
        {
            // The preset's default covers a run it can: a shorter --change-every or a longer --steps than 50 values serve
            // draws instead, and says so (docs/friction.md#the-authors-table).
            if (needed <= FrictionTable.AuthorsValues) source = FrictionTable.Authors;
            else note = $"note: the authors' friction table has {FrictionTable.AuthorsValues} values per seed and {steps:N0} steps with a change every " +
                $"{friction.ChangeEverySteps:N0} may need {needed}; drawing the values from seed {seed} instead (--frictions {DrawFrictions} says so explicitly)";
        }
        if (source == DrawFrictions) return (friction with { Table = null, TableSource = null }, note);
        if (source == FrictionTable.Authors && seed >= FrictionTable.AuthorsSeeds)
            throw new UsageException($"--frictions {FrictionTable.Authors}: the authors' table has rows for seeds 0-{FrictionTable.AuthorsSeeds - 1}, not {seed}; pick such a seed or use --frictions {DrawFrictions}");
        try
        {
            return (friction with { Table = FrictionTable.ReadRow(source, seed, needed), TableSource = source }, null);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--frictions: {e.Message}{(source == FrictionTable.Authors ? $"; or use --frictions {DrawFrictions}" : "")}");
        }
    }

    /// <summary>--eval-every (default: the preset's) and --eval-episodes, which needs evaluation on, over <paramref name="videos"/>' video period.</summary>
    private EvalSettings ReadEval(ParseResult result, string preset, EvalSettings videos)
    {
        long every = (long?)Value(result, EvalSettings.Flags.Every) ?? EvalSettings.DefaultEvery(preset);
        int? episodes = (int?)Value(result, EvalSettings.Flags.Episodes);
        if (every > 0) return videos with { EveryEnvSteps = every, Episodes = episodes ?? EvalSettings.DefaultEpisodes };
        if (episodes is not null)
            throw new UsageException(Given(result, EvalSettings.Flags.Every)
                ? "--eval-episodes needs evaluation on, but --eval-every is 0; drop --eval-episodes or give --eval-every N"
                : $"--eval-episodes needs evaluation on, which --preset {preset} leaves off; add --eval-every N (like 100k) or drop --eval-episodes");
        return videos;
    }

    /// <summary>The step budget rounded up to whole updates (the trainer only stops between updates), and a note if that changed it.</summary>
    private (long Steps, string? Note) WholeUpdates(ParseResult result, string preset, int batchSize, long? recorded)
    {
        long requested = (long?)Value(result, RunSettings.Flags.Steps) ?? recorded ?? RunSettings.DefaultSteps(preset);
        long updates = (requested + batchSize - 1) / batchSize;
        long steps = updates * batchSize;
        if (steps == requested) return (steps, null);
        string what = result.GetResult(OptionOf(RunSettings.Flags.Steps).Option) is { } given
            ? $"--steps {given.Tokens[^1].Value} is"
            : recorded is not null ? $"the run's recorded {requested:N0} steps are"
            : $"the {preset} preset's {requested:N0} steps are";
        return (steps, string.Create(CultureInfo.InvariantCulture,
            $"note: {what} not a whole number of {batchSize:N0}-step updates; training {steps:N0} steps ({updates:N0} update{(updates == 1 ? "" : "s")})"));
    }

    /// <summary>The --learner's PPO settings with each learner flag given overriding its field, and the env count (default: the learner's).</summary>
    private (PpoSettings Ppo, int Envs) ReadLearner(ParseResult result, PpoMethod method, string envPreset)
    {
        if (!_learner.TryGet(result, out string learner)) learner = envPreset == Seed2023 ? Seed2023 : Nature2024;
        var preset = PpoSettings.Learners.First(l => l.Word == learner).Preset(method);
        int envs = (int?)Value(result, EnvSettings.Flags.Envs) ?? (learner == Seed2023 ? PpoSettings.Seed2023Envs : EnvSettings.DefaultEnvs(envPreset));
        int batch = (int?)Value(result, PpoSettings.Flags.BatchSize) ?? preset.BatchSize;
        int minibatch = (int?)Value(result, PpoSettings.Flags.MinibatchSize) ?? preset.MinibatchSize;
        if (batch % minibatch != 0)
            throw new UsageException($"--minibatch-size {minibatch} must divide the batch of {batch} transitions");
        return (Apply(result, PpoSettings.Flags.All, preset), envs);
    }

    /// <summary>
    /// The method's settings (its preset, each of its flags given overriding a field), or null for a method without;
    /// a flag of another method's settings is refused.
    /// </summary>
    private object? ReadMethodSettings(ParseResult result, PlasticityMethod method, string envPreset)
    {
        object? settings = null;
        foreach (var options in _methodOptions)
        {
            if (options.Schema == method.Settings)
            {
                settings = options.Read(result, method, envPreset);
                continue;
            }
            foreach (var option in options.All)
                if (Given(result, option))
                    throw new UsageException($"{option.Name} only applies to {options.MethodsText}; drop it or use --method {options.Methods[0].Word}");
        }
        return settings;
    }

    private int Run(ParseResult result)
    {
        var request = Read(result);
        var output = result.InvocationConfiguration.Output;
        foreach (string note in request.Notes) output.WriteLine(note);
        // Before libtorch loads: it reads its kernel choice once per process.
        TorchRuntime.UseCpuKernels(request.Config.Run.CpuKernels);
        UseLibtorch(request.Config.Run.Device, result.GetValue(_libtorch), output, result.InvocationConfiguration.Error);
        using var stop = new StopSignals(result.InvocationConfiguration.Error);
        SweepChild.StopWithSweep();
        TrainResult trained;
        // --resume-if-present: a directory holding a checkpoint is continued; anything else is what a new run gets.
        bool resume = request.Resume || (result.GetValue(_resumeIfPresent) && File.Exists(Path.Combine(request.OutDir, RunDirectory.CheckpointFile)));
        using (var trainer = new Trainer(request.Config, request.OutDir, resume, output))
            trained = trainer.Run(stop.Token);
        if (!trained.Stopped) return 0;
        output.WriteLine($"to continue: {ContinueCommand(result)}");
        return stop.ExitCode;
    }

    /// <summary>Where a run goes without --out: runs/&lt;method&gt;-&lt;preset&gt;-seed-&lt;seed&gt; under the current directory.</summary>
    private string DefaultOut(PpoMethod method, string preset, ulong seed) =>
        Path.Combine("runs", string.Create(CultureInfo.InvariantCulture, $"{_method.WordFor(method)}-{preset}-seed-{seed}"));

    /// <summary>Loads the libtorch the device needs before anything touches TorchSharp, and says which one when it is not the app's own.</summary>
    private static void UseLibtorch(string device, string? dir, TextWriter output, TextWriter error)
    {
        var libtorch = LibtorchLoader.Ensure(device == "cuda", dir);
        if (!libtorch.Preload) return;
        output.WriteLine(libtorch.Describe());
        if (libtorch.VersionWarning() is string warning) error.WriteLine(warning);
    }

    /// <summary>This command line with --resume (given once, at the end), quoted for a POSIX shell.</summary>
    private string ContinueCommand(ParseResult result)
    {
        var words = new List<string> { result.RootCommandResult.Command.Name };
        var tokens = result.Tokens;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Type == TokenType.Option && tokens[i].Value == _resume.Name)
            {
                if (i + 1 < tokens.Count && tokens[i + 1].Type == TokenType.Argument && bool.TryParse(tokens[i + 1].Value, out _)) i++;
                continue;
            }
            words.Add(ShellWord(tokens[i].Value));
        }
        words.Add(_resume.Name);
        return string.Join(' ', words);
    }

    private static string ShellWord(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))
            ? word
            : $"'{word.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
