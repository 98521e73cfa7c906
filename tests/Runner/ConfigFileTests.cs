using CbpGpu.Tests;
using CbpGpu.Runner.Cli;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`--config FILE`: a config.json becomes the flags that ask for it; flags given win; bad files are one usage error naming the key.</summary>
public sealed class ConfigFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cbpgpu-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, string json)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    private static string CbpJson => ReadTrain("--method", "cbp", "--out", "d", "--preset", "seed2023", "--change-every", "300k", "--steps", "4096",
        "--envs", "32", "--seed", "5", "--maturity", "123", "--decay", "0.9").Config.ToJson();

    [Fact]
    public void AConfigFileGivesBackItsConfigAndFlagsOverrideIt()
    {
        string file = Write("config.json", CbpJson);
        var same = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d"])[1..]);
        Assert.Equal(CbpJson, same.Config.ToJson());
        var changed = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--seed", "9", "--maturity", "7"])[1..]).Config;
        Assert.Equal(9UL, changed.Run.Seed);
        Assert.Equal(7, changed.Cbp()!.MaturityThreshold);
        Assert.Equal(0.9, changed.Cbp()!.Decay);
        Assert.Equal(300_000, changed.Env.Friction.ChangeEverySteps);
        // The file's physics (seed2023's own: Bullet) is kept unless --engine is given.
        Assert.Equal(CbpGpu.Physics.PhysicsEngine.Bullet, same.Config.Env.Ant.Engine);
        var mujoco = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--engine", "mujoco"])[1..]).Config;
        Assert.Equal(CbpGpu.Physics.PhysicsEngine.MuJoCo, mujoco.Env.Ant.Engine);
        Assert.Equal(same.Config with { Env = same.Config.Env with { Ant = same.Config.Env.Ant with { Engine = CbpGpu.Physics.PhysicsEngine.MuJoCo } } }, mujoco);
        // Also when --preset changes: the engine is the file's, not the new preset's (docs/sweeps.md#config).
        var constant = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--preset", "constant"])[1..]).Config;
        Assert.Equal(("constant", CbpGpu.Physics.PhysicsEngine.Bullet), (constant.Env.Preset, constant.Env.Ant.Engine));
        // Another method drops the file's CBP settings instead of refusing them.
        Assert.Null(ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--method", "l2"])[1..]).Config.Cbp());
    }

    [Theory]
    [InlineData("--method", "cbp", "--preset", "nature2024-ant", "--steps", "4096")]
    [InlineData("--method", "l2", "--preset", "seed2023", "--weight-decay", "1e-2", "--steps", "4096")]
    [InlineData("--method", "cbp", "--learner", "nature2024", "--preset", "seed2023", "--count-rule", "layer-coin", "--reset-bias", "true", "--steps", "4096")]
    [InlineData("--method", "std", "--preset", "constant", "--engine", "bullet", "--activation", "tanh", "--max-grad-norm", "1.5", "--steps", "4096")]
    [InlineData("--method", "std", "--preset", "constant", "--eval-every", "30k", "--eval-episodes", "4", "--steps", "4096")]
    [InlineData("--method", "ns", "--preset", "seed2023", "--eval-every", "0", "--steps", "4096")]
    [InlineData("--method", "std", "--preset", "constant", "--video-every", "100k", "--steps", "4096")]
    [InlineData("--method", "std", "--preset", "seed2023", "--steps", "4096")]
    [InlineData("--method", "std", "--preset", "seed2023", "--engine", "mujoco", "--obs", "27", "--steps", "4096")]
    [InlineData("--method", "std", "--preset", "seed2023", "--engine", "bullet-fixed", "--steps", "4096")]
    public void EveryPresetLearnerAndEngineRoundTripsThroughAConfigFile(params string[] flags)
    {
        string json = ReadTrain([.. flags, "--out", "d"]).Config.ToJson();
        string file = Write($"config-{Guid.NewGuid():N}.json", json);
        Assert.Equal(json, ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d"])[1..]).Config.ToJson());
    }

    [Fact]
    public void EvaluationSwitchedOffOnTheCommandLineDropsTheFilesEpisodeCount()
    {
        string file = Write("config.json", CbpJson);
        Assert.Contains("\"Episodes\": 10", CbpJson);
        var off = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--eval-every", "0"])[1..]).Config;
        Assert.Equal(CbpGpu.Agent.Settings.EvalSettings.Off, off.Eval);
        var other = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--eval-every", "10k"])[1..]).Config;
        Assert.Equal(new CbpGpu.Agent.Settings.EvalSettings(10_000, 10), other.Eval);
        // A config.json written before evaluation existed has no Eval key: evaluation off.
        string old = Write("old.json", CbpJson.Replace(",\n  \"Eval\": {\n    \"EveryEnvSteps\": 100000,\n    \"Episodes\": 10\n  }", "", StringComparison.Ordinal));
        Assert.DoesNotContain("Eval", File.ReadAllText(old));
        Assert.Equal(CbpGpu.Agent.Settings.EvalSettings.Off, ReadTrain(ConfigArguments.Expand(["train", "--config", old, "--out", "d"])[1..]).Config.Eval);
    }

    [Theory]
    [InlineData("\"Seed\": 5", "\"Seed\": \"five\"", "key Run.Seed has the wrong type or value")]
    [InlineData("\"Seed\": 5", "\"Seed\": 5, \"Speed\": 1", "unknown key Run.Speed")]
    [InlineData("\"Seed\": 5,", "", "missing key Run.Seed")]
    [InlineData("\"GaeLambda\": 0.95", "\"GaeLambda\": 0.9", "Ppo.GaeLambda is 0.9 where the flags give 0.95; no flag sets it")]
    // Issue 25 (4): every key a run writes must be there (docs/sweeps.md#config), not only those without a default.
    [InlineData("\"Clip\": 0.2,", "", "missing key Ppo.Clip")]
    [InlineData("\"Gamma\": 0.99,", "", "missing key Ppo.Gamma")]
    [InlineData("\"HiddenUnits\": 256,", "", "missing key Ppo.HiddenUnits")]
    [InlineData("\"LearningRate\": 0.0001,", "", "missing key Ppo.Adam.LearningRate")]
    [InlineData("\"MaturityThreshold\": 123,", "", "missing key Cbp.MaturityThreshold")]
    [InlineData("\"Method\": \"Cbp\"", "\"Method\": \"Adam\"", "Ppo.Method Adam is not a registered method (methods: Standard, NsAdam, L2, Cbp, CbpInstantaneous, Redo, ShrinkPerturb, L2Init, Upgd, Toy, Failing)")]
    public void BadFilesAreOneUsageErrorNamingTheKey(string from, string to, string message)
    {
        Assert.Contains(from, CbpJson);
        string file = Write("bad.json", CbpJson.Replace(from, to, StringComparison.Ordinal));
        var outcome = Invoke("train", "--config", file, "--out", Path.Combine(_dir, "run"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"error: --config {file}: {message}", outcome.ErrorLine.Split("; see docs/")[0].Split(", so change it back")[0]);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
    }

    /// <summary>A file that is not JSON, or JSON that is not an object, is said to be so, with where the reader stopped.</summary>
    [Theory]
    [InlineData("hello\n", "is not JSON (line 1, byte 1 of the line): give a run's config.json")]
    [InlineData("{\n  \"Env\": {\n", "is not JSON (line 3, byte 1 of the line): give a run's config.json")]
    [InlineData("[1, 2]", "is JSON but not an object ({ ... }); give a run's config.json")]
    public void FilesThatAreNotAConfigAreOneUsageErrorSayingSo(string text, string message)
    {
        string file = Write("not-a-config.json", text);
        var outcome = Invoke("train", "--config", file, "--out", Path.Combine(_dir, "run"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"error: --config {file}: {message}", outcome.ErrorLine.Split("; see docs/")[0]);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
    }

    /// <summary>Issue 25 (4): keys that builds before a setting existed did not write may be left out; they read as those builds ran.</summary>
    [Fact]
    public void KeysOlderBuildsDidNotWriteMayBeLeftOut()
    {
        string file = Write("older.json", System.Text.RegularExpressions.Regex.Replace(CbpJson, ",\\s*\"CheckpointMinutes\": 10", ""));
        Assert.DoesNotContain("CheckpointMinutes", File.ReadAllText(file));
        Assert.Equal(CbpJson, ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d"])[1..]).Config.ToJson());
    }

    private static string Json(params string[] flags) => ReadTrain([.. flags, "--out", "d", "--steps", "4096"]).Config.ToJson();

    /// <summary>Issue 25 (1): a method given by flag gets that method's optimizer, not the file's method's, in train and sweep.</summary>
    [Theory]
    [InlineData("nature2024-ant", "std", "l2")]
    [InlineData("nature2024-ant", "std", "cbp")]
    [InlineData("nature2024-ant", "cbp", "ns")]
    [InlineData("seed2023", "std", "l2")]
    [InlineData("seed2023", "l2", "std")]
    public void AnotherMethodByFlagGetsItsOwnOptimizerAndSettings(string preset, string fileMethod, string method)
    {
        string file = Write($"{fileMethod}.json", Json("--preset", preset, "--method", fileMethod));
        var config = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--method", method])[1..]).Config;
        Assert.Equal(Json("--preset", preset, "--method", method), config.ToJson());
    }

    [Fact]
    public void ASweepOfOtherMethodsGivesEachItsOwnOptimizer()
    {
        string file = Write("std.json", Json("--preset", "nature2024-ant", "--method", "std"));
        var parsed = RunnerCommandLine.Create().Parse(ConfigArguments.Expand(["sweep", "--config", file, "--methods", "ns,cbp", "--seeds", "0", "--out", "sw"]));
        Assert.Empty(parsed.Errors);
        var request = Assert.IsType<CbpGpu.Runner.Commands.SweepCommand>(parsed.CommandResult.Command).Read(parsed);
        var configs = request.Runs.Select(r => ReadTrain([.. r.TrainArgs.Skip(1)]).Config).ToList();
        Assert.Equal(CbpGpu.Agent.Settings.PpoSettings.For(CbpGpu.Agent.Settings.PpoMethod.NsAdam).Adam, configs[0].Ppo.Adam);
        Assert.Equal(CbpGpu.Agent.Settings.PpoSettings.For(CbpGpu.Agent.Settings.PpoMethod.Cbp).Adam, configs[1].Ppo.Adam);
        Assert.Equal(CbpGpu.Kernels.CbpSettings.Nature2024, configs[1].Cbp());
    }

    /// <summary>Issue 25 (1): an L2 the file changed from its method's preset is not silently replaced: the mix is refused naming the key.</summary>
    [Fact]
    public void ATunedL2GivenToAnotherMethodIsRefusedNamingTheKey()
    {
        string file = Write("tuned.json", Json("--preset", "nature2024-ant", "--method", "std", "--weight-decay", "5e-3"));
        var outcome = Invoke("train", "--config", file, "--out", Path.Combine(_dir, "run"), "--method", "l2");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"error: --config {file}: Ppo.Adam.WeightDecay is std's own setting, changed from its preset, and l2 brings its own; " +
            "give the flag for it or drop the other method", outcome.ErrorLine);
        var given = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--method", "l2", "--weight-decay", "2e-3"])[1..]).Config;
        Assert.Equal(CbpGpu.Agent.Settings.PpoSettings.For(CbpGpu.Agent.Settings.PpoMethod.L2).Adam with { WeightDecay = 2e-3 }, given.Ppo.Adam);
    }

    /// <summary>Issue 25 (2): editing a constant friction alone is enough; its log10 range is derived, never asked for.</summary>
    [Fact]
    public void ADerivedValueIsNeverAskedOfTheUser()
    {
        string json = Json("--preset", "constant", "--method", "std");
        Assert.Contains("\"ConstantFriction\": 1,", json);
        string file = Write("friction.json", json.Replace("\"ConstantFriction\": 1,", "\"ConstantFriction\": 0.5,", StringComparison.Ordinal));
        var config = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d"])[1..]).Config;
        Assert.Equal(CbpGpu.Physics.FrictionConfig.Constant(0.5), config.Env.Friction);
        Assert.Equal(Math.Log10(0.5), config.Env.Friction.Log10Min);
    }

    /// <summary>Issue 25 (3): the learning rate is a setting with a flag: --lr, from a config file too.</summary>
    [Fact]
    public void TheLearningRateHasAFlag()
    {
        Assert.Equal(3e-4, ReadTrain("--method", "cbp", "--out", "d", "--lr", "3e-4").Config.Ppo.Adam.LearningRate);
        Assert.Equal(1e-4, ReadTrain("--method", "std", "--out", "d").Config.Ppo.Adam.LearningRate);
        string file = Write("lr.json", CbpJson.Replace("\"LearningRate\": 0.0001", "\"LearningRate\": 0.0003", StringComparison.Ordinal));
        var config = ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d"])[1..]).Config;
        Assert.Equal(3e-4, config.Ppo.Adam.LearningRate);
        Assert.Equal("3e-4", FlagValue.Canonical("--lr", "0.0003"));
        Assert.Equal("error: --lr must be between 0 and 1, not 2", Invoke("train", "--lr", "2", "--out", Path.Combine(_dir, "r")).ErrorLine);
    }

    /// <summary>A run directory given to --config is named as a directory, with the file to give instead (issue 25).</summary>
    [Fact]
    public void ADirectoryIsRefusedNamingTheConfigJsonInsideIt()
    {
        string runDir = Path.Combine(_dir, "somerun");
        Directory.CreateDirectory(runDir);
        var outcome = Invoke("train", "--config", runDir, "--out", Path.Combine(_dir, "run"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"error: --config {runDir}: is a directory; give the config.json inside it ({Path.Combine(runDir, "config.json")})", outcome.ErrorLine);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
    }

    [Fact]
    public void ASweepTakesEverythingButMethodAndSeedFromTheFile()
    {
        string file = Write("config.json", CbpJson);
        var parsed = RunnerCommandLine.Create().Parse(ConfigArguments.Expand(["sweep", "--config", file, "--methods", "std,cbp", "--seeds", "0", "--out", "sw"]));
        Assert.Empty(parsed.Errors);
        var request = Assert.IsType<CbpGpu.Runner.Commands.SweepCommand>(parsed.CommandResult.Command).Read(parsed);
        Assert.Equal(4096, request.Runs[0].TotalSteps);
        Assert.DoesNotContain("--maturity", request.Runs[0].TrainArgs);
        Assert.Contains("--maturity", request.Runs[1].TrainArgs);
        Assert.Equal(["--method", "cbp", "--seed", "0"], request.Runs[1].TrainArgs.Skip(1).Take(4));
    }
}
