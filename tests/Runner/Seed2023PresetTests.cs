using CbpGpu.Tests;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>
/// `train --preset seed2023` is the reproduction report's learner, protocol and CBP (docs/learners.md): every value
/// written out here by hand, read from the config the command line resolves to and from its config.json.
/// </summary>
public class Seed2023PresetTests
{
    private static TrainConfig Seed2023(params string[] more) =>
        ReadTrain(["--out", "d", "--preset", "seed2023", .. more]).Config;

    [Theory]
    [InlineData("std")]
    [InlineData("cbp")]
    public void ResolvesToEveryValueOfTheReport(string method)
    {
        var c = Seed2023("--method", method);
        foreach (var config in new[] { c, TrainConfig.FromJson(c.ToJson()) })
        {
            var (env, ppo) = (config.Env, config.Ppo);
            // Rollout: 4 envs x 1024 steps, batch 4096, minibatches of 128, 10 epochs.
            Assert.Equal(4, env.NumEnvs);
            Assert.Equal(4096, ppo.BatchSize);
            Assert.Equal(1024, ppo.StepsPerEnv(env.NumEnvs));
            Assert.Equal(128, ppo.MinibatchSize);
            Assert.Equal(10, ppo.Epochs);
            // PPO: lr 1e-4, gamma 0.99, lambda 0.95, clip 0.2, loss = policy + 0.5 value MSE, grad norm 0.5, advantages per minibatch.
            Assert.Equal(1e-4, ppo.Adam.LearningRate);
            Assert.Equal(0.99, ppo.Gamma);
            Assert.Equal(0.95, ppo.GaeLambda);
            Assert.Equal(0.2, ppo.Clip);
            Assert.Equal(0.5, ppo.ValueCoefficient);
            Assert.Equal(0.5, ppo.MaxGradNorm);
            Assert.Equal(AdvantageNormalization.Minibatch, ppo.Advantages);
            // The 500-step cap reported as termination: no bootstrap after it.
            Assert.False(ppo.BootstrapTruncation);
            Assert.Equal(500, env.Ant.MaxEpisodeSteps);
            // Networks [256, 256] with Tanh; orthogonal init, gains sqrt 2 (hidden), 0.01 (policy out), 1 (value out).
            Assert.Equal(256, ppo.HiddenUnits);
            Assert.Equal(Activation.Tanh, ppo.Network.Activation);
            Assert.Equal(InitScheme.Orthogonal, ppo.Network.Init);
            Assert.Equal(Math.Sqrt(2), ppo.Network.HiddenGain);
            Assert.Equal(0.01, ppo.Network.PolicyOutputGain);
            Assert.Equal(1.0, ppo.Network.ValueOutputGain);
            // One Adam, betas (0.9, 0.999), eps 1e-5; no weight decay for PPO and for CPPO.
            Assert.Equal((0.9, 0.999, 1e-5, 0.0), (ppo.Adam.Beta1, ppo.Adam.Beta2, ppo.Adam.Eps, ppo.Adam.WeightDecay));
            // Friction 10^U(-4, 4), mid-episode, all envs one sequence; every 2.5M steps of each of the 4 envs = 10M summed.
            Assert.Equal(FrictionProtocol.Seed2023, env.Friction.Protocol);
            Assert.Equal((-4.0, 4.0), (env.Friction.Log10Min, env.Friction.Log10Max));
            Assert.False(env.Friction.ChangeAtEpisodeEnd);
            Assert.Equal(2_500_000, env.Friction.ChangeEverySteps / env.NumEnvs);
            // The report's physics: PyBullet's Ant, 28-float observation, friction on the floor (docs/bullet-ant.md).
            Assert.Equal(PhysicsEngine.Bullet, env.Ant.Engine);
            Assert.Equal(28, env.Ant.ObservationSize);
            // 100M steps, rounded up to whole updates of 4096.
            Assert.Equal(100_003_840, config.Run.TotalSteps);
            if (method == "std")
            {
                Assert.Null(config.Cbp());
                continue;
            }
            // CPPO: rho 1e-3, maturity 500, decay 0.99, adaptable contribution (eps 1e-8), one unit with probability
            // units x rho, rows U(+-1/sqrt(fan_in)), bias untouched, m, v and t of row and column zeroed.
            var cbp = config.Cbp()!;
            Assert.Equal(UtilityKind.AdaptableContribution, cbp.Utility);
            Assert.Equal(1e-3, cbp.ReplacementRate);
            Assert.Equal(500, cbp.MaturityThreshold);
            Assert.Equal(0.99, cbp.Decay);
            Assert.Equal(1e-8, cbp.Epsilon);
            Assert.Equal(ReplacementCountRule.LayerCoin, cbp.CountRule);
            Assert.Equal(NewRowBound.InverseSqrtFanIn, cbp.NewRowBound);
            Assert.False(cbp.ResetBias);
            Assert.Equal(AdamStateReset.MomentsAndStepCounters, cbp.AdamReset);
            Assert.False(cbp.NextBiasCorrection);
        }
    }

    [Fact]
    public void ConfigJsonRecordsTheLearnerOptions()
    {
        string json = Seed2023("--method", "cbp").ToJson();
        foreach (string field in new[]
        {
            "\"Activation\": \"Tanh\"", "\"Init\": \"Orthogonal\"", "\"PolicyOutputGain\": 0.01", "\"Eps\": 1E-05",
            "\"ValueCoefficient\": 0.5", "\"MaxGradNorm\": 0.5", "\"Advantages\": \"Minibatch\"", "\"BatchSize\": 4096",
            "\"Minibatches\": 32", "\"NumEnvs\": 4", "\"CountRule\": \"LayerCoin\"", "\"ResetBias\": false",
            "\"NewRowBound\": \"InverseSqrtFanIn\"", "\"AdamReset\": \"MomentsAndStepCounters\"", "\"Engine\": \"Bullet\"",
        })
            Assert.Contains(field, json);
    }

    [Theory]
    [InlineData("seed2023", PhysicsEngine.Bullet)]
    [InlineData("nature2024", PhysicsEngine.MuJoCo)]
    [InlineData("nature2024-ant", PhysicsEngine.MuJoCo)]
    [InlineData("constant", PhysicsEngine.MuJoCo)]
    public void EachPresetBringsItsPhysicsAndEngineReplacesIt(string preset, PhysicsEngine expected)
    {
        var config = ReadTrain("--out", "d", "--method", "std", "--preset", preset).Config;
        Assert.Equal(expected, config.Env.Ant.Engine);
        Assert.Equal(expected, TrainConfig.FromJson(config.ToJson()).Env.Ant.Engine);
        foreach (var (word, engine) in new[] { ("mujoco", PhysicsEngine.MuJoCo), ("bullet", PhysicsEngine.Bullet), ("bullet-fixed", PhysicsEngine.BulletFixed) })
        {
            var chosen = ReadTrain("--out", "d", "--method", "std", "--preset", preset, "--engine", word).Config;
            Assert.Equal(engine, chosen.Env.Ant.Engine);
            // Nothing else follows the engine: the task, the learner and the run are the preset's.
            Assert.Equal(config with { Env = config.Env with { Ant = config.Env.Ant with { Engine = engine } } }, chosen);
        }
    }

    [Fact]
    public void TheMuJoCoVariantOfTheReportTakesItsObservations()
    {
        var mujoco = Seed2023("--method", "std", "--engine", "mujoco", "--obs", "27").Env.Ant;
        Assert.Equal(new EnvConfig(ObservationKind.NoContact, MaxEpisodeSteps: 500, Engine: PhysicsEngine.MuJoCo), mujoco);
        var outcome = Invoke("train", "--method", "std", "--preset", "seed2023", "--obs", "27", "--out", "never-created");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("error: --obs applies to --engine mujoco only, and --preset seed2023 runs on the Bullet Ant (28 floats); add --engine mujoco or drop --obs", outcome.ErrorLine);
        Assert.False(Directory.Exists("never-created"));
    }

    [Theory]
    [InlineData("1e-3")]
    [InlineData("1e-4")]
    [InlineData("1e-5")]
    [InlineData("1e-6")]
    public void L2VariantsChangeOnlyTheWeightDecay(string weightDecay)
    {
        var l2 = Seed2023("--method", "l2", "--weight-decay", weightDecay);
        var std = Seed2023("--method", "std");
        Assert.Equal(double.Parse(weightDecay, System.Globalization.CultureInfo.InvariantCulture), l2.Ppo.Adam.WeightDecay);
        Assert.Equal(std with { Ppo = std.Ppo with { Method = PpoMethod.L2, Adam = std.Ppo.Adam with { WeightDecay = l2.Ppo.Adam.WeightDecay } } }, l2);
    }

    [Theory]
    [InlineData(1e-3, 500)]
    [InlineData(1e-3, 100)]
    [InlineData(1e-4, 5000)]
    [InlineData(1e-4, 500)]
    [InlineData(1e-5, 10_000)]
    [InlineData(1e-5, 50_000)]
    [InlineData(1e-8, 500_000)]
    public void TheCppoGridIsReachedByRateAndMaturity(double rho, int maturity)
    {
        var cbp = Seed2023("--method", "cbp", "--replacement-rate", rho.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--maturity", maturity.ToString(System.Globalization.CultureInfo.InvariantCulture)).Cbp();
        Assert.Equal(CbpSettings.Seed2023 with { ReplacementRate = rho, MaturityThreshold = maturity }, cbp);
    }

    [Fact]
    public void LearnerOptionsMixWithEitherPreset()
    {
        // The authors' learner on the report's task, and the report's learner with the authors' activation and batch.
        var authorsOnReportTask = Seed2023("--method", "std", "--learner", "nature2024");
        Assert.Equal(PpoSettings.For(PpoMethod.Standard), authorsOnReportTask.Ppo);
        Assert.Equal(64, authorsOnReportTask.Env.NumEnvs);
        var mix = ReadTrain("--out", "d", "--method", "std", "--learner", "seed2023", "--activation", "relu", "--batch-size", "2048",
            "--minibatch-size", "64", "--envs", "8", "--max-grad-norm", "off", "--advantage-norm", "batch", "--adam-eps", "1e-8",
            "--value-coef", "1", "--init", "lecun-uniform", "--hidden-gain", "1", "--policy-output-gain", "1").Config;
        Assert.Equal(PpoSettings.Seed2023(PpoMethod.Standard) with
        {
            Network = NetworkSettings.Seed2023 with { Activation = Activation.Relu, Init = InitScheme.LecunUniform, HiddenGain = 1, PolicyOutputGain = 1 },
            Adam = PpoSettings.Seed2023(PpoMethod.Standard).Adam with { Eps = 1e-8 },
            BatchSize = 2048, Minibatches = 32, MaxGradNorm = null, Advantages = AdvantageNormalization.Batch, ValueCoefficient = 1,
        }, mix.Ppo);
        Assert.Equal(8, mix.Env.NumEnvs);
        Assert.Equal("nature2024", mix.Env.Preset);
    }
}
