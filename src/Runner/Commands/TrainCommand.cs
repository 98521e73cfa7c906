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
    private const string DrawFrictions = "draw";
    private static readonly PpoSettings Nature2024Learner = PpoSettings.For(PpoMethod.Standard);
    private static readonly PpoSettings Seed2023Learner = PpoSettings.Seed2023(PpoMethod.Standard);

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

    private readonly ChoiceOption<string> _env = SharedOptions.Env(defaultWord: null, $" (default: the --preset's: hopper for {NatureHopper}, walker2d for {NatureWalker}, the Ant otherwise)");

    private readonly Option<double?> _friction = SharedOptions.Friction("friction for --preset constant", 1.0);

    private readonly Option<long?> _steps = OptionFactory.OptionalCount(
        "--steps", "N",
        $"env steps in total, rounded up to whole updates of --batch-size transitions (default: the preset's run length: " +
        $"{Nature2024} {RunSettings.DefaultSteps(Nature2024):N0}, {NatureAnt} {RunSettings.DefaultSteps(NatureAnt):N0}, " +
        $"{Seed2023} {RunSettings.DefaultSteps(Seed2023):N0}, {Constant} {RunSettings.DefaultSteps(Constant):N0})",
        1L, 10_000_000_000L);

    private readonly Option<int?> _envs = SharedOptions.OptionalEnvs(1 << 16,
        $"parallel envs, each stepped --batch-size / N steps per update; must divide --batch-size (default: with --learner " +
        $"{Seed2023} (--preset {Seed2023}'s own) {PpoSettings.Seed2023Envs} (x {Seed2023Learner.BatchSize / PpoSettings.Seed2023Envs:N0} steps, as the report); " +
        $"with --learner {Nature2024} the preset's: {Nature2024} and {NatureAnt} " +
        $"{EnvSettings.DefaultEnvs(Nature2024)} env x {Nature2024Learner.BatchSize / EnvSettings.DefaultEnvs(Nature2024):N0} steps, as the paper; " +
        $"{Seed2023} {EnvSettings.DefaultEnvs(Seed2023)}, {Constant} {EnvSettings.DefaultEnvs(Constant)})");

    private readonly Option<string> _frictions = OptionFactory.Text(
        "--frictions", $"FILE|{FrictionTable.Authors}|{DrawFrictions}",
        "where a run's friction values come from, for presets whose friction changes: a table FILE used in order (one line " +
        "per seed, data line k is seed k, values separated by commas or spaces, '#' comments); " +
        $"{FrictionTable.Authors}: the authors' table (seeds 0-{FrictionTable.AuthorsSeeds - 1}, docs/friction.md#the-authors-table); {DrawFrictions}: drawn from the seed " +
        $"(default: {Nature2024} {FrictionTable.Authors} for seeds 0-{FrictionTable.AuthorsSeeds - 1}, else {DrawFrictions}; {Seed2023} {DrawFrictions})", required: false);
    private readonly Option<long> _seed = OptionFactory.Count("--seed", "S", "seed for envs, weights and sampling", 0L, 0L, long.MaxValue);

    private readonly ChoiceOption<string> _device = new(
        "--device", "where torch and the fused kernels run (cuda: ILGPU kernels over libtorch's device memory, src/Kernels/MEMORY.md)", "cpu", ("cpu", "cpu"), ("cuda", "cuda"));

    private readonly ChoiceOption<CpuKernels> _cpuKernels = new(
        "--cpu-kernels",
        "native: libtorch's fastest kernels for this CPU (the same seed gives the same files on this machine); portable: pinned " +
        "kernels that give the same files on any x86-64-v3 CPU, Intel or AMD, 1.25-1.55x the wall time (docs/formats.md#reproducibility)",
        "native", ("native", CpuKernels.Native), ("portable", CpuKernels.Portable));

    private readonly Option<string> _libtorch = OptionFactory.Text(
        LibtorchSearch.Option, "DIR",
        $"load libtorch from DIR (a PyTorch install's torch/lib or a libtorch/lib) in a build that carries none (scripts/bundle.sh); " +
        $"default: this app's own, else {LibtorchSearch.EnvironmentVariable}, else the PyTorch python3 imports", required: false);

    private readonly Option<int> _threads = SharedOptions.Threads(Environment.ProcessorCount, "threads for MuJoCo stepping (default: this machine's core count)");
    private readonly Option<int> _torchThreads = OptionFactory.Count("--torch-threads", "N", "threads for torch (see Threads below)", 1, 1, 256);
    private readonly ChoiceOption<ObservationKind> _obs = SharedOptions.Obs();
    private readonly ChoiceOption<PhysicsEngine> _engine = SharedOptions.Engine(
        defaultWord: null, $" (default: the --preset's: bullet for {Seed2023}, as the report ran; mujoco for {Nature2024}, {NatureAnt} and {Constant})");

    private readonly Option<bool> _bootstrapTruncation = OptionFactory.Switch(
        "--bootstrap-truncation", "bootstrap V(last obs) when an episode hits the time limit (the paper presets treat truncation like termination)");

    private readonly Option<int> _checkpointEvery = OptionFactory.Count(
        "--checkpoint-every", "K", $"write {RunDirectory.CheckpointFile} every K updates (0: not by count) and at the end", 100, 0, int.MaxValue);

    private readonly Option<double> _checkpointMinutes = OptionFactory.Real(
        "--checkpoint-minutes", "M", "also write it when M minutes of wall time have passed since the last one (0: not by time)", 10, 0, double.PositiveInfinity);

    private readonly Option<bool> _resume = OptionFactory.Switch(
        "--resume", "continue the run in --out from its checkpoint (same flags; --steps may change, not below the steps done)");

    private readonly Option<bool> _resumeIfPresent = OptionFactory.Switch(
        "--resume-if-present", "--resume when --out holds a run, else start one (what a sweep, a requeued or resubmitted Slurm task runs)");

    private readonly Option<long?> _changeEvery = OptionFactory.OptionalCount(
        "--change-every", "N", "friction period in env steps summed over envs, for short experiments (default: the preset's: " +
        $"{Nature2024} {FrictionConfig.Nature2024.ChangeEverySteps:N0} (then at each env's episode end), {Seed2023} {FrictionConfig.Seed2023.ChangeEverySteps:N0})",
        1L, 10_000_000_000L);

    private readonly Option<long?> _evalEvery = OptionFactory.OptionalCount(
        "--eval-every", "N",
        "evaluate every N env steps (summed over envs; at the first update that reaches each multiple, and at step 0): " +
        $"--eval-episodes episodes with the mean action at training env 0's current friction, on a thread of its own, into {RunDirectory.EvalFile}; " +
        $"0: off (default: the preset's: {Nature2024}, {NatureAnt}, {Seed2023} {EvalSettings.DefaultEvery(Nature2024):N0}; {Constant} off)",
        0L, 10_000_000_000L);

    private readonly Option<int?> _evalEpisodes = OptionFactory.OptionalCount(
        "--eval-episodes", "K", $"episodes per evaluation, run side by side (default: {EvalSettings.DefaultEpisodes}; needs evaluation on)",
        1, EvalSettings.MaxEpisodes);

    private readonly Option<long> _videoEvery = OptionFactory.Count(
        "--video-every", "N",
        "draw one evaluation episode of the policy (mean action, one episode's steps, 640x480, as render) every N env steps and at step 0 " +
        "into videos/step-<step>.mp4, on a thread of its own; the Ant only; needs EGL and ffmpeg (docs/render.md#during-training)",
        0L, 0L, 10_000_000_000L);

    private readonly ChoiceOption<OptimizerImpl> _optimizerImpl = new(
        "--optimizer-impl",
        "fused: aged Adam and CBP in a few fused passes over all parameters; naive: the same math as TorchSharp ops " +
        "per tensor (the slow reference); torch: TorchSharp's Adam (only with --reset-adam-state none)",
        "fused",
        ("fused", OptimizerImpl.Fused), ("naive", OptimizerImpl.Naive), ("torch", OptimizerImpl.Torch));

    private readonly ChoiceOption<string> _learner = new(
        "--learner",
        "PPO and its networks: nature2024 (the authors': ReLU, LeCun init, Adam eps 1e-8, value coef 1, no clipping, " +
        $"advantages per batch, {RolloutShape(EnvSettings.DefaultEnvs(Nature2024), Nature2024Learner.BatchSize)} under the paper presets) " +
        "or seed2023 (the report's Stable-Baselines3 PPO: Tanh, orthogonal init, " +
        $"eps 1e-5, value coef 0.5, grad norm 0.5, advantages per minibatch, {RolloutShape(PpoSettings.Seed2023Envs, Seed2023Learner.BatchSize)}); " +
        "default: the --preset's own (nature2024 for constant)",
        defaultWord: null, (Nature2024, Nature2024), (Seed2023, Seed2023));

    private readonly ChoiceOption<Activation> _activation = new(
        "--activation", "nonlinearity of the hidden layers", defaultWord: null, ("relu", Activation.Relu), ("tanh", Activation.Tanh));

    private readonly ChoiceOption<InitScheme> _init = new(
        "--init", "initial Linear weights: lecun-uniform or orthogonal, times the layer's gain", defaultWord: null,
        ("lecun-uniform", InitScheme.LecunUniform), ("orthogonal", InitScheme.Orthogonal));

    private readonly Option<double?> _hiddenGain = OptionFactory.OptionalReal("--hidden-gain", "G", "initial gain of the four hidden Linears", 1e-6, 1e6);
    private readonly Option<double?> _policyOutputGain = OptionFactory.OptionalReal("--policy-output-gain", "G", "initial gain of the action-mean Linear", 1e-6, 1e6);
    private readonly Option<double?> _valueOutputGain = OptionFactory.OptionalReal("--value-output-gain", "G", "initial gain of the value Linear", 1e-6, 1e6);
    private readonly Option<double?> _learningRate = OptionFactory.OptionalReal(
        "--lr", "LR", "Adam's learning rate" +
        $" (default from --method and --learner: {string.Join(", ", MethodRegistry.All.SelectMany(m => new[] { m.Nature2024Adam.LearningRate, m.Seed2023Adam.LearningRate }).Distinct().Select(ScaledNumber.Format))} for every method)",
        0, 1);

    private readonly Option<double?> _adamEps = OptionFactory.OptionalReal("--adam-eps", "E", "Adam's epsilon", 1e-12, 1);

    private readonly Option<double?> _weightDecay = OptionFactory.OptionalReal(
        "--weight-decay", "W", "L2 added to the gradient (Adam weight_decay); default from --method and --learner", 0, 1);

    private readonly Option<double?> _valueCoefficient = OptionFactory.OptionalReal("--value-coef", "C", "loss = policy loss + C x value MSE", 0, 1e6);

    private readonly Option<double?> _maxGradNorm = new("--max-grad-norm")
    {
        HelpName = "off|N",
        Description = "clip the global gradient norm to N before every optimizer step, or off",
        CustomParser = r => ParseOffOrPositive(r, "--max-grad-norm"),
    };

    private readonly ChoiceOption<AdvantageNormalization> _advantageNorm = new(
        "--advantage-norm", "normalise advantages over the whole batch or in each minibatch", defaultWord: null,
        ("batch", AdvantageNormalization.Batch), ("minibatch", AdvantageNormalization.Minibatch));

    private readonly Option<int?> _batchSize = OptionFactory.OptionalCount(
        "--batch-size", "N", "transitions per update (envs x steps per env)", 2, 1 << 24);

    private readonly Option<int?> _minibatchSize = OptionFactory.OptionalCount(
        "--minibatch-size", "N", "transitions per minibatch; must divide --batch-size", 1, 1 << 24);

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
        _activation.Description += FromLearner(_activation.WordFor(Nature2024Learner.Network.Activation), _activation.WordFor(Seed2023Learner.Network.Activation));
        _init.Description += FromLearner(_init.WordFor(Nature2024Learner.Network.Init), _init.WordFor(Seed2023Learner.Network.Init));
        _hiddenGain.Description += FromLearner(Nature2024Learner.Network.HiddenGain, Seed2023Learner.Network.HiddenGain);
        _policyOutputGain.Description += FromLearner(Nature2024Learner.Network.PolicyOutputGain, Seed2023Learner.Network.PolicyOutputGain);
        _valueOutputGain.Description += FromLearner(Nature2024Learner.Network.ValueOutputGain, Seed2023Learner.Network.ValueOutputGain);
        _adamEps.Description += FromLearner(Nature2024Learner.Adam.Eps, Seed2023Learner.Adam.Eps);
        _valueCoefficient.Description += FromLearner(Nature2024Learner.ValueCoefficient, Seed2023Learner.ValueCoefficient);
        _maxGradNorm.Description += FromLearner(GradNormWord(Nature2024Learner.MaxGradNorm), GradNormWord(Seed2023Learner.MaxGradNorm));
        _advantageNorm.Description += FromLearner(_advantageNorm.WordFor(Nature2024Learner.Advantages), _advantageNorm.WordFor(Seed2023Learner.Advantages));
        _batchSize.Description += FromLearner(Nature2024Learner.BatchSize, Seed2023Learner.BatchSize);
        _minibatchSize.Description += FromLearner(Nature2024Learner.MinibatchSize, Seed2023Learner.MinibatchSize);
        Option[] learnerOptions =
        [
            _learner, _activation, _init, _hiddenGain, _policyOutputGain, _valueOutputGain, _learningRate, _adamEps, _weightDecay, _valueCoefficient,
            _maxGradNorm, _advantageNorm, _batchSize, _minibatchSize,
        ];

        Option[] all =
        [
            _method, _out, _preset, _env, _friction, _frictions, _steps, _envs, _seed, _device, _cpuKernels, _libtorch, _threads, _torchThreads, _obs, _engine,
            _bootstrapTruncation, _checkpointEvery, _checkpointMinutes, _resume, _resumeIfPresent, _changeEvery, _evalEvery, _evalEpisodes, _videoEvery, _optimizerImpl, .. learnerOptions,
            .. _methodOptions.SelectMany(m => m.All), ConfigArguments.Option(),
        ];
        foreach (var option in all) Add(option);
        PerRunOptions = [.. all.Except([_method, _seed, _out, _resume, _resumeIfPresent])];
        SetAction(Run);
    }

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

    /// <summary>The flags that ask for <paramref name="c"/> (for --config FILE, docs/sweeps.md#config): every setting a flag sets, given explicitly.</summary>
    public IEnumerable<(Option Option, string[] Values)> FlagsFor(TrainConfig c)
    {
        static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        static string L(long v) => v.ToString(CultureInfo.InvariantCulture);
        yield return (_method, [_method.WordFor(c.Ppo.Method)]);
        yield return (_preset, [c.Env.Preset]);
        if (c.Env.Ant.Name is string env) yield return (_env, [env]);
        if (c.Env.Preset == Constant) yield return (_friction, [N(c.Env.Friction.ConstantFriction)]);
        else if (c.Env.Friction.Protocol != FrictionProtocol.Constant
                 && c.Env.Friction.ChangeEverySteps != (c.Env.Preset == Seed2023 ? FrictionConfig.Seed2023 : FrictionConfig.Nature2024).ChangeEverySteps)
            yield return (_changeEvery, [L(c.Env.Friction.ChangeEverySteps)]);
        if (c.Env.Friction.Protocol != FrictionProtocol.Constant) yield return (_frictions, [c.Env.Friction.TableSource ?? DrawFrictions]);
        yield return (_engine, [_engine.WordFor(c.Env.Ant.Engine)]);
        yield return (_steps, [L(c.Run.TotalSteps)]);
        yield return (_envs, [L(c.Env.NumEnvs)]);
        yield return (_seed, [c.Run.Seed.ToString(CultureInfo.InvariantCulture)]);
        yield return (_device, [c.Run.Device]);
        yield return (_cpuKernels, [_cpuKernels.WordFor(c.Run.CpuKernels)]);
        yield return (_threads, [L(c.Run.EnvThreads)]);
        yield return (_torchThreads, [L(c.Run.TorchThreads)]);
        if (c.Env.Ant.Engine == PhysicsEngine.MuJoCo) yield return (_obs, [_obs.WordFor(c.Env.Ant.Observation)]);
        yield return (_bootstrapTruncation, [Word(c.Ppo.BootstrapTruncation)]);
        yield return (_checkpointEvery, [L(c.Run.CheckpointEveryUpdates)]);
        yield return (_checkpointMinutes, [N(c.Run.CheckpointMinutes)]);
        yield return (_optimizerImpl, [_optimizerImpl.WordFor(c.Run.Optimizer)]);
        yield return (_evalEvery, [L(c.Eval.EveryEnvSteps)]);
        if (c.Eval.Enabled) yield return (_evalEpisodes, [L(c.Eval.Episodes)]);
        if (c.Eval.VideosEnabled) yield return (_videoEvery, [L(c.Eval.VideoEveryEnvSteps)]);
        // The learner preset fixes what no flag sets (Adam's betas); every other learner field is given explicitly.
        yield return (_learner, [IsSeed2023Learner(c.Ppo) ? Seed2023 : Nature2024]);
        yield return (_activation, [_activation.WordFor(c.Ppo.Network.Activation)]);
        yield return (_init, [_init.WordFor(c.Ppo.Network.Init)]);
        yield return (_hiddenGain, [N(c.Ppo.Network.HiddenGain)]);
        yield return (_policyOutputGain, [N(c.Ppo.Network.PolicyOutputGain)]);
        yield return (_valueOutputGain, [N(c.Ppo.Network.ValueOutputGain)]);
        yield return (_learningRate, [N(c.Ppo.Adam.LearningRate)]);
        yield return (_adamEps, [N(c.Ppo.Adam.Eps)]);
        yield return (_weightDecay, [N(c.Ppo.Adam.WeightDecay)]);
        yield return (_valueCoefficient, [N(c.Ppo.ValueCoefficient)]);
        yield return (_maxGradNorm, [c.Ppo.MaxGradNorm is double clip ? N(clip) : "off"]);
        yield return (_advantageNorm, [_advantageNorm.WordFor(c.Ppo.Advantages)]);
        yield return (_batchSize, [L(c.Ppo.BatchSize)]);
        yield return (_minibatchSize, [L(c.Ppo.MinibatchSize)]);
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

    private static string Word(bool value) => value ? "true" : "false";

    private static string GradNormWord(double? maxNorm) => maxNorm is double n ? ScaledNumber.Format(n) : "off";

    private static string FromLearner(double nature, double seed) => FromLearner(ScaledNumber.Format(nature), ScaledNumber.Format(seed));

    private static string FromLearner(string nature, string seed) => $" (default from --learner: {Nature2024} {nature}, {Seed2023} {seed})";

    /// <summary>`off` (parsed as +infinity, no clipping) or a finite number &gt; 0.</summary>
    private static double? ParseOffOrPositive(ArgumentResult r, string name)
    {
        string text = r.Tokens[^1].Value;
        if (string.Equals(text, "off", StringComparison.OrdinalIgnoreCase)) return double.PositiveInfinity;
        if (ScaledNumber.TryParse(text, out double value) && value > 0 && double.IsFinite(value)) return value;
        r.AddError($"{name} must be off or a number > 0 (like 0.5), not '{text}'");
        return null;
    }

    private static bool Given(ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>The run these options ask for; throws <see cref="UsageException"/> for combinations that cannot run.</summary>
    public TrainRequest Read(ParseResult result)
    {
        var method = _method.Get(result);
        string preset = _preset.Get(result);
        if (preset != Constant && Given(result, _friction))
            throw new UsageException($"--friction only applies to --preset {Constant}; drop it or add --preset {Constant}");
        var plasticity = MethodRegistry.Get(method);
        var methodSettings = ReadMethodSettings(result, plasticity, preset);
        var impl = _optimizerImpl.Get(result);
        if (plasticity.UsageProblem(methodSettings, impl, _device.Get(result)) is string methodProblem) throw new UsageException(methodProblem);

        var notes = new List<string>();
        var (ppo, envs) = ReadLearner(result, method, preset);
        if (ppo.Validate(envs) is string problem) throw new UsageException($"--envs {envs}: {problem}");
        ulong seed = (ulong)result.GetValue(_seed);
        string? outDir = result.GetValue(_out);
        if (outDir is null)
        {
            outDir = DefaultOut(method, _env.TryGet(result, out string named) ? $"{preset}-{named}" : preset, seed);
            notes.Add($"note: no --out given; the run's directory is {outDir}");
        }
        // --resume without --steps keeps the run's own budget, not the preset's (issue 25).
        long? recorded = result.GetValue(_resume) && result.GetValue(_steps) is null ? RecordedSteps(outDir) : null;
        if (recorded is long kept)
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"note: --resume without --steps keeps the run's budget of {kept:N0} steps ({RunDirectory.ConfigFile}); give --steps to change it"));
        var (steps, note) = WholeUpdates(result, preset, ppo.BatchSize, recorded);
        if (note is not null) notes.Add(note);

        var env = preset switch
        {
            Seed2023 => EnvSettings.Seed2023(envs),
            Constant => EnvSettings.Constant(envs, result.GetValue(_friction)!.Value),
            NatureAnt => EnvSettings.NatureAnt(envs),
            NatureHopper => EnvSettings.NatureHopper(envs),
            NatureWalker => EnvSettings.NatureWalker(envs),
            _ => EnvSettings.Nature2024(envs),
        };
        if (_env.TryGet(result, out string envId)) env = env.On(envId);
        // The preset brings its physics (seed2023: Bullet, as the report ran); --engine replaces it.
        bool engineGiven = _engine.TryGet(result, out var engine);
        if (!engineGiven) engine = env.Ant.Engine;
        if (!engineGiven && engine != PhysicsEngine.MuJoCo && Given(result, _obs))
            throw new UsageException($"--obs applies to --engine mujoco only, and --preset {preset} runs on the Bullet Ant (28 floats); add --engine mujoco or drop --obs");
        var obs = SharedOptions.ObservationFor(result, _obs, engine);
        env = env with { Ant = env.Ant with { Engine = engine, Observation = obs } };
        if (result.GetValue(_changeEvery) is long period)
        {
            if (env.Friction.Protocol == FrictionProtocol.Constant)
                throw new UsageException($"--change-every does not apply to --preset {preset} (its friction never changes); drop it or choose {Nature2024} or {Seed2023}");
            env = env with { Friction = env.Friction with { ChangeEverySteps = period } };
        }
        (var friction, string? frictionNote) = ReadFrictionValues(result, preset, env.Friction, seed, steps);
        env = env with { Friction = friction };
        if (frictionNote is not null) notes.Add(frictionNote);
        var run = new RunSettings(
            seed, steps, _device.Get(result), result.GetValue(_torchThreads), result.GetValue(_threads),
            result.GetValue(_checkpointEvery), impl, result.GetValue(_checkpointMinutes), _cpuKernels.Get(result));
        long videoEvery = result.GetValue(_videoEvery);
        if (videoEvery > 0 && !CbpGpu.Agent.Rendering.TrainingVideo.Renders(env.Ant))
            throw new UsageException($"--video-every draws the Ant only ({EnvRegistry.Ant}, {EnvRegistry.AntBullet}), not {env.Ant.Id}; drop --video-every");
        var config = new TrainConfig(env, ppo, run, methodSettings) { Eval = ReadEval(result, preset) with { VideoEveryEnvSteps = videoEvery } };
        if (config.Validate() is string invalid) throw new UsageException(invalid);
        return new TrainRequest(config, outDir, result.GetValue(_resume), notes);
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
            if (!File.Exists(path)) return null;
            var total = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?["Run"]?["TotalSteps"];
            return total is null ? null : total.GetValue<long>();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or FormatException or InvalidOperationException)
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
        string? given = result.GetValue(_frictions);
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

    /// <summary>--eval-every (default: the preset's) and --eval-episodes, which needs evaluation on.</summary>
    private EvalSettings ReadEval(ParseResult result, string preset)
    {
        long every = result.GetValue(_evalEvery) ?? EvalSettings.DefaultEvery(preset);
        int? episodes = result.GetValue(_evalEpisodes);
        if (every > 0) return new EvalSettings(every, episodes ?? EvalSettings.DefaultEpisodes);
        if (episodes is not null)
            throw new UsageException(Given(result, _evalEvery)
                ? "--eval-episodes needs evaluation on, but --eval-every is 0; drop --eval-episodes or give --eval-every N"
                : $"--eval-episodes needs evaluation on, which --preset {preset} leaves off; add --eval-every N (like 100k) or drop --eval-episodes");
        return EvalSettings.Off;
    }

    /// <summary>The step budget rounded up to whole updates (the trainer only stops between updates), and a note if that changed it.</summary>
    private (long Steps, string? Note) WholeUpdates(ParseResult result, string preset, int batchSize, long? recorded)
    {
        long requested = result.GetValue(_steps) ?? recorded ?? RunSettings.DefaultSteps(preset);
        long updates = (requested + batchSize - 1) / batchSize;
        long steps = updates * batchSize;
        if (steps == requested) return (steps, null);
        string what = result.GetResult(_steps) is { } given
            ? $"--steps {given.Tokens[^1].Value} is"
            : recorded is not null ? $"the run's recorded {requested:N0} steps are"
            : $"the {preset} preset's {requested:N0} steps are";
        return (steps, string.Create(CultureInfo.InvariantCulture,
            $"note: {what} not a whole number of {batchSize:N0}-step updates; training {steps:N0} steps ({updates:N0} updates)"));
    }

    /// <summary>The --learner's PPO settings and env count with each learner option given overriding its field.</summary>
    private (PpoSettings Ppo, int Envs) ReadLearner(ParseResult result, PpoMethod method, string envPreset)
    {
        if (!_learner.TryGet(result, out string learner)) learner = envPreset == Seed2023 ? Seed2023 : Nature2024;
        bool bootstrap = result.GetValue(_bootstrapTruncation);
        var preset = learner == Seed2023 ? PpoSettings.Seed2023(method, bootstrap) : PpoSettings.For(method, bootstrap);
        int envs = result.GetValue(_envs) ?? (learner == Seed2023 ? PpoSettings.Seed2023Envs : EnvSettings.DefaultEnvs(envPreset));
        int batch = result.GetValue(_batchSize) ?? preset.BatchSize;
        int minibatch = result.GetValue(_minibatchSize) ?? preset.MinibatchSize;
        if (batch % minibatch != 0)
            throw new UsageException($"--minibatch-size {minibatch} must divide the batch of {batch} transitions");
        var network = preset.Network with
        {
            Activation = _activation.TryGet(result, out var activation) ? activation : preset.Network.Activation,
            Init = _init.TryGet(result, out var init) ? init : preset.Network.Init,
            HiddenGain = result.GetValue(_hiddenGain) ?? preset.Network.HiddenGain,
            PolicyOutputGain = result.GetValue(_policyOutputGain) ?? preset.Network.PolicyOutputGain,
            ValueOutputGain = result.GetValue(_valueOutputGain) ?? preset.Network.ValueOutputGain,
        };
        var ppo = preset with
        {
            Adam = preset.Adam with
            {
                LearningRate = result.GetValue(_learningRate) ?? preset.Adam.LearningRate,
                Eps = result.GetValue(_adamEps) ?? preset.Adam.Eps,
                WeightDecay = result.GetValue(_weightDecay) ?? preset.Adam.WeightDecay,
            },
            Network = network,
            BatchSize = batch,
            Minibatches = batch / minibatch,
            ValueCoefficient = result.GetValue(_valueCoefficient) ?? preset.ValueCoefficient,
            Advantages = _advantageNorm.TryGet(result, out var advantages) ? advantages : preset.Advantages,
            MaxGradNorm = result.GetValue(_maxGradNorm) is double clip ? (double.IsFinite(clip) ? clip : null) : preset.MaxGradNorm,
        };
        return (ppo, envs);
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
