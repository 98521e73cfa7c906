using CbpGpu.Agent.Settings;
using CbpGpu.Physics;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`train --env` and the hopper and walker presets, read from the command line into the run's configuration (docs/gym-mujoco.md#presets).</summary>
public class EnvOptionTests
{
    [Theory]
    [InlineData("nature2024-hopper", "hopper", 11)]
    [InlineData("nature2024-walker", "walker2d", 17)]
    public void TheAuthorsHopperAndWalkerPresets(string preset, string env, int observations)
    {
        var config = ReadTrain("--out", "d", "--method", "cbp", "--preset", preset).Config;
        Assert.Equal(env, config.Env.Ant.Name);
        Assert.Equal(1, config.Env.NumEnvs); // one env, as the authors ran it
        Assert.Equal(FrictionConfig.Constant(1.0), config.Env.Friction); // Gym's friction throughout
        Assert.Equal((1000, 5e-3), (config.Env.Ant.MaxEpisodeSteps, config.Env.Ant.ResetNoise));
        Assert.Equal(observations, config.Env.Ant.ObservationSize);
        // The authors' hopper and walker learners are their Ant's (lop/rl/cfg/hopper/cbp.yml = lop/rl/cfg/ant/cbp.yml but for the env).
        var ant = ReadTrain("--out", "d", "--method", "cbp", "--preset", "nature2024-ant").Config;
        Assert.Equal(ant.Ppo, config.Ppo);
        Assert.Equal(ant.Cbp(), config.Cbp());
        var json = config.ToJson();
        Assert.Contains($"\"Name\": \"{env}\"", json);
        Assert.Equal(config, TrainConfig.FromJson(json));
    }

    [Fact]
    public void EnvReplacesThePresetsEnvAndKeepsItsFrictionAndCap()
    {
        var slippery = ReadTrain("--out", "d", "--method", "std", "--preset", "nature2024", "--env", "halfcheetah").Config;
        var ant = ReadTrain("--out", "d", "--method", "std", "--preset", "nature2024").Config;
        Assert.Equal(EnvRegistry.Get("halfcheetah").Defaults, slippery.Env.Ant);
        Assert.Equal(ant with { Env = ant.Env with { Ant = slippery.Env.Ant } }, slippery);
        var report = ReadTrain("--out", "d", "--method", "std", "--preset", "seed2023", "--env", "walker2d").Config;
        Assert.Equal((500, PhysicsEngine.MuJoCo, "walker2d"), (report.Env.Ant.MaxEpisodeSteps, report.Env.Ant.Engine, report.Env.Ant.Id));
        // --env ant is the MuJoCo Ant, written as before (no Name in config.json).
        var plain = ReadTrain("--out", "d", "--method", "std", "--preset", "constant", "--env", "ant").Config;
        Assert.Equal(ReadTrain("--out", "d", "--method", "std", "--preset", "constant").Config, plain);
        Assert.DoesNotContain("\"Name\"", plain.ToJson());
    }

    [Fact]
    public void EnvsThatDoNotFitTheOtherOptionsAreUsageErrors()
    {
        var outcome = Invoke("train", "--method", "std", "--preset", "constant", "--env", "hopper", "--engine", "bullet", "--out", "never-created");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("error: hopper runs on MuJoCo, not Bullet", outcome.ErrorLine);
        outcome = Invoke("train", "--method", "std", "--preset", "constant", "--env", "walker2d", "--obs", "27", "--out", "never-created");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("error: walker2d has one observation; NoContact is the MuJoCo Ant's", outcome.ErrorLine);
        outcome = Invoke("train", "--method", "std", "--env", "humanoid", "--out", "never-created");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--env", outcome.ErrorLine);
    }
}
