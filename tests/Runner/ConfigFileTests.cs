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
        Assert.Equal(7, changed.Cbp!.MaturityThreshold);
        Assert.Equal(0.9, changed.Cbp.Decay);
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
        Assert.Null(ReadTrain(ConfigArguments.Expand(["train", "--config", file, "--out", "d", "--method", "l2"])[1..]).Config.Cbp);
    }

    [Theory]
    [InlineData("--method", "cbp", "--preset", "nature2024-ant", "--steps", "4096")]
    [InlineData("--method", "l2", "--preset", "seed2023", "--weight-decay", "1e-2", "--steps", "4096")]
    [InlineData("--method", "cbp", "--learner", "nature2024", "--preset", "seed2023", "--count-rule", "layer-coin", "--reset-bias", "true", "--steps", "4096")]
    [InlineData("--method", "std", "--preset", "constant", "--engine", "bullet", "--activation", "tanh", "--max-grad-norm", "1.5", "--steps", "4096")]
    [InlineData("--method", "std", "--preset", "constant", "--eval-every", "30k", "--eval-episodes", "4", "--steps", "4096")]
    [InlineData("--method", "ns", "--preset", "seed2023", "--eval-every", "0", "--steps", "4096")]
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
    [InlineData("\"LearningRate\": 0.0001", "\"LearningRate\": 0.0003", "Ppo.Adam.LearningRate is 0.0003 where the flags give 0.0001; no flag sets it")]
    public void BadFilesAreOneUsageErrorNamingTheKey(string from, string to, string message)
    {
        Assert.Contains(from, CbpJson);
        string file = Write("bad.json", CbpJson.Replace(from, to, StringComparison.Ordinal));
        var outcome = Invoke("train", "--config", file, "--out", Path.Combine(_dir, "run"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"error: --config {file}: {message}", outcome.ErrorLine.Split("; see docs/")[0].Split(", so change it back")[0]);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
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
