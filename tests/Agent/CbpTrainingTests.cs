using CbpGpu.Tests;
using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// PPO+CBP through the real trainer (MuJoCo Ant, TorchSharp, the fused kernels), a few updates long: the CLI run,
/// fused vs naive, TorchSharp's Adam on the same gradients, exact resume, refusals.
/// </summary>
public sealed class CbpTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cbpgpu-cbp-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    // Maturity 50 and rate 1e-2 so that units are replaced from the first update on (one update = 160 steps).
    private static readonly CbpSettings FastCbp = CbpSettings.Nature2024 with { MaturityThreshold = 50, ReplacementRate = 1e-2 };

    private static TrainConfig Config(long steps, PpoMethod? method = null, OptimizerImpl impl = OptimizerImpl.Fused, CbpSettings? cbp = null) =>
        new(EnvSettings.Constant(16, 1.0), PpoSettings.For(method ?? PpoMethod.Cbp), new RunSettings(5, steps, "cpu", 1, 2, 1, impl),
            (method ?? PpoMethod.Cbp) == PpoMethod.Cbp ? cbp ?? FastCbp : null);

    private string Train(string name, TrainConfig config, bool resume = false)
    {
        string dir = Path.Combine(_root, name);
        using var trainer = new Trainer(config, dir, resume, TextWriter.Null);
        trainer.Run(CancellationToken.None);
        return dir;
    }

    /// <summary>The parameters a finished run ended with: resuming it with its own budget restores them and changes nothing.</summary>
    private static float[] Parameters(string dir, TrainConfig config)
    {
        using var trainer = new Trainer(config, dir, resume: true, TextWriter.Null);
        return trainer.Networks.Parameters.ToArray();
    }

    /// <summary>updates.csv as rows of named fields, timings dropped (they differ run to run).</summary>
    private static List<Dictionary<string, string>> Updates(string dir)
    {
        var lines = File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile));
        var header = lines[0].Split(',');
        return lines.Skip(1)
            .Select(l => header.Zip(l.Split(',')).Where(p => !p.First.EndsWith("_seconds", StringComparison.Ordinal)).ToDictionary(p => p.First, p => p.Second))
            .ToList();
    }

    private double MaxDifference(float[] a, float[] b, string what)
    {
        Assert.Equal(a.Length, b.Length);
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        output.WriteLine($"{what}: max |difference| {worst:E3}");
        return worst;
    }

    [Fact]
    public void RunnerTrainMethodCbpRunsAndLogsTheExactReplacementCounts()
    {
        string dir = Path.Combine(_root, "cli");
        int rc = CbpGpu.Runner.Program.Main(
            ["train", "--method", "cbp", "--out", dir, "--preset", "constant", "--envs", "16", "--steps", "4096",
             "--threads", "2", "--maturity", "50", "--replacement-rate", "0.01", "--utility", "adaptable", "--count-rule", "accumulate"]);
        Assert.Equal(0, rc);
        var saved = TrainConfig.FromJson(File.ReadAllText(Path.Combine(dir, RunDirectory.ConfigFile)));
        Assert.Equal(PpoMethod.Cbp, saved.Ppo.Method);
        Assert.Equal(new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4), saved.Ppo.Adam);
        Assert.Equal(CbpSettings.Nature2024 with
        {
            MaturityThreshold = 50, ReplacementRate = 0.01, Utility = UtilityKind.AdaptableContribution, CountRule = ReplacementCountRule.Accumulate,
        }, saved.Cbp());
        Assert.Equal(OptimizerImpl.Fused, saved.Run.Optimizer);

        var rows = Updates(dir);
        Assert.Equal(2, rows.Count);
        var (expected1, expected2) = AccumulateRuleReplacements(units: 256, maturity: 50, rate: 0.01, stepsPerUpdate: 160);
        Assert.True(expected1 > 200 && expected2 > 200);
        foreach (var layer in new[] { "policy_h1", "policy_h2", "value_h1", "value_h2" })
        {
            Assert.Equal(expected1, long.Parse(rows[0][$"replaced_{layer}"]));
            Assert.Equal(expected2, long.Parse(rows[1][$"replaced_{layer}"]));
        }
    }

    /// <summary>
    /// Units the accumulate rule replaces in one layer during two updates, by a plain simulation of docs/cbp.md#replacement-count: every
    /// step ages every unit by one, n = rate * (units older than maturity) is added to a carried fraction whose
    /// integer part is replaced (their ages drop to 0). Which units are chosen does not change the counts.
    /// </summary>
    private static (long First, long Second) AccumulateRuleReplacements(int units, int maturity, double rate, int stepsPerUpdate)
    {
        var ages = new int[units];
        double carried = 0;
        var totals = new long[2];
        for (int step = 0; step < 2 * stepsPerUpdate; step++)
        {
            for (int i = 0; i < units; i++) ages[i]++;
            int eligible = ages.Count(a => a > maturity);
            if (eligible == 0) continue;
            carried += rate * eligible;
            int whole = (int)Math.Floor(carried);
            carried -= whole;
            int replace = Math.Min(whole, eligible);
            for (int i = 0; i < units && replace > 0; i++)
                if (ages[i] > maturity)
                {
                    ages[i] = 0;
                    replace--;
                    totals[step / stepsPerUpdate]++;
                }
        }
        return (totals[0], totals[1]);
    }

    // One update = 160 optimizer steps with CBP choosing and replacing ~150 units per layer (more than the whole
    // 20M-step run replaces). The two implementations round differently (4e-8 after one update); a second rollout
    // would amplify that through the contact dynamics (1e-2 after two updates even without CBP), so the comparison
    // stops after one. A different unit chosen anywhere would show as a difference of ~0.1 in its weights.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FusedAndNaiveAgreeOverOneUpdateWithReplacements(bool seed2023)
    {
        // seed2023: the report's learner (Tanh, orthogonal init, clipping, per-minibatch advantages) at the authors' batch
        // shape, and its CBP (no bias reset, rows U(+-1/sqrt(fan_in)), m, v, t reset) with the accumulate count and the
        // next-bias correction switched on, so that every replacement path runs. (With the authors' ReLU networks instead,
        // measured: the two picked different units once in value.h1, whose fresh rows then sat in swapped places while
        // every count agreed; a near tie of utilities that float rounding decides. Kernel-level agreement of these
        // settings is FusedVersusNaiveTests'.)
        var cbp = seed2023
            ? CbpSettings.Seed2023 with { MaturityThreshold = 50, ReplacementRate = 1e-2, CountRule = ReplacementCountRule.Accumulate, NextBiasCorrection = true }
            : FastCbp;
        var learner = seed2023 ? PpoSettings.Seed2023(PpoMethod.Cbp) with { BatchSize = 2048, Minibatches = 16 } : PpoSettings.For(PpoMethod.Cbp);
        TrainConfig Of(OptimizerImpl impl) => Config(2048, impl: impl, cbp: cbp) with { Ppo = learner };
        string fused = Train("fused", Of(OptimizerImpl.Fused));
        string naive = Train("naive", Of(OptimizerImpl.Naive));
        var rowsFused = Updates(fused);
        var rowsNaive = Updates(naive);
        foreach (var layer in new[] { "policy_h1", "policy_h2", "value_h1", "value_h2" })
        {
            Assert.Equal(rowsFused[0][$"replaced_{layer}"], rowsNaive[0][$"replaced_{layer}"]);
            Assert.True(long.Parse(rowsFused[0][$"replaced_{layer}"]) > 100);
        }
        Assert.True(MaxDifference(Parameters(fused, Of(OptimizerImpl.Fused)), Parameters(naive, Of(OptimizerImpl.Naive)), $"fused vs naive, 1 update (seed2023-like {seed2023})") <= 1e-6);
    }

    /// <summary>
    /// TorchSharp's Adam and the fused aged Adam, each as Standard PPO builds it (OptimizerPair, the method's Adam
    /// settings, the real network), driven by the same gradients: those of one real PPO update (16 envs x 128 steps,
    /// 160 optimizer steps), computed on the fused copy's parameters and handed to the TorchSharp copy as they are.
    /// Aged Adam with equal step counters is Adam, so only the order of float32 roundings may differ. Comparing two
    /// whole trainings instead compared two trajectories: a last-bit difference, carried through a ReLU crossing,
    /// becomes a discretely different gradient on some CPUs (4.7e-4 after one update, issue 24), which says nothing
    /// about the optimizers.
    /// </summary>
    [Fact]
    public void TorchAdamEqualsFusedAgedAdamOverOneUpdateOfStandardPpoOnTheSameGradients()
    {
        const int envs = 16;
        var ppo = PpoSettings.For(PpoMethod.Standard);
        using var env = new VectorEnv(envs, new EnvConfig(), FrictionConfig.Constant(1.0), seed: 5, threads: 2);
        using var nets = new ActorCritic(env.ObservationSize, ppo.HiddenUnits, env.ActionSize, CPU, ppo.Network.Activation);
        using (var init = new Generator(5)) nets.Parameters.Initialize(init, ppo.Network);
        float[] initial = nets.Parameters.ToArray();
        using var twin = new FlatParameters(nets.Layout, CPU);
        twin.CopyFrom(initial);
        using var fused = OptimizerPair.Create(nets.Parameters, ppo.Adam, null, OptimizerImpl.Fused, 0);
        using var torch = OptimizerPair.Create(twin, ppo.Adam, null, OptimizerImpl.Torch, 0);
        var both = new SameGradients(fused.Optimizer, nets.Parameters, torch.Optimizer, twin);
        using var generator = new Generator(6);
        using var rollout = new Rollout(ppo.StepsPerEnv(envs), envs, env.ObservationSize, env.ActionSize, ppo.HiddenUnits);
        rollout.Collect(env, nets, generator, CPU, false, _ => { });
        using (var update = new PpoUpdate(nets, both, null, ppo, generator, CPU)) update.Run(rollout);

        Assert.Equal(ppo.Epochs * ppo.Minibatches, both.Steps);
        // The update moved the parameters far more than the tolerance, so the comparison below can fail.
        Assert.True(MaxDifference(initial, nets.Parameters.ToArray(), "moved by the update") > 1e-4);
        Assert.True(MaxDifference(nets.Parameters.ToArray(), twin.ToArray(), "fused vs torch Adam, same gradients, 1 update") <= 1e-6);
    }

    /// <summary>Steps two optimizers over two copies of the parameters with the first copy's gradient.</summary>
    private sealed class SameGradients(IParameterOptimizer first, FlatParameters firstParameters, IParameterOptimizer second, FlatParameters secondParameters)
        : IParameterOptimizer
    {
        public int Steps { get; private set; }

        public void ZeroGrad()
        {
            first.ZeroGrad();
            second.ZeroGrad();
        }

        public void Step()
        {
            using (no_grad()) secondParameters.Grad.copy_(firstParameters.Grad);
            first.Step();
            second.Step();
            Steps++;
        }

        public void Save(BinaryWriter writer) => throw new NotSupportedException();

        public void Load(BinaryReader reader) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }

    [Theory]
    [InlineData(OptimizerImpl.Fused)]
    [InlineData(OptimizerImpl.Naive)]
    public void CbpResumeContinuesExactly(OptimizerImpl impl)
    {
        // Accumulate carries fractions and reset zeroes per-weight step counters: both must survive the checkpoint.
        var cbp = FastCbp with { Utility = UtilityKind.AdaptableContribution, AdamReset = AdamStateReset.MomentsAndStepCounters, CountRule = ReplacementCountRule.Accumulate };
        string straight = Train("straight", Config(3 * 2048, impl: impl, cbp: cbp));
        string split = Train("split", Config(2048, impl: impl, cbp: cbp));
        Train("split", Config(3 * 2048, impl: impl, cbp: cbp), resume: true);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, RunDirectory.EpisodesFile)), File.ReadAllBytes(Path.Combine(split, RunDirectory.EpisodesFile)));
        Assert.Equal(Updates(straight), Updates(split));
        Assert.Equal(Parameters(straight, Config(3 * 2048, impl: impl, cbp: cbp)), Parameters(split, Config(3 * 2048, impl: impl, cbp: cbp)));
    }

    [Fact]
    public void ResumingWithOtherCbpSettingsOrAnotherMethodIsRefused()
    {
        string dir = Train("run", Config(2048));
        var utility = Assert.Throws<TrainingException>(() => Train("run", Config(4096, cbp: FastCbp with { Utility = UtilityKind.AdaptableContribution }), resume: true));
        Assert.Contains("Cbp.Utility", utility.Message);
        var method = Assert.Throws<TrainingException>(() => Train("run", Config(4096, PpoMethod.L2), resume: true));
        Assert.Contains("Ppo.Method", method.Message);
        var impl = Assert.Throws<TrainingException>(() => Train("run", Config(4096, impl: OptimizerImpl.Naive), resume: true));
        Assert.Contains("Run.Optimizer", impl.Message);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile)).Length);
    }

    [Fact]
    public void InconsistentConfigurationsAreRefused()
    {
        var noSettings = Config(2048) with { MethodSettings = null };
        Assert.Contains("needs CBP settings", Assert.Throws<TrainingException>(() => Train("a", noSettings)).Message);
        var torchReset = Config(2048, impl: OptimizerImpl.Torch, cbp: CbpSettings.Seed2023);
        Assert.Contains("per-weight step counters", Assert.Throws<TrainingException>(() => Train("b", torchReset)).Message);
        Assert.Equal(2, CbpGpu.Runner.Program.Main(["train", "--method", "l2", "--out", Path.Combine(_root, "c"), "--maturity", "5"]));
        Assert.False(Directory.Exists(Path.Combine(_root, "a")));
    }
}
