using CbpGpu.Agent.Settings;
using CbpGpu.Physics;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>The paper presets' rollout shape and the authors' friction table (--frictions), through the real options.</summary>
public sealed class PaperPresetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cbpgpu-frictions-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Table(string text)
    {
        string path = Path.Combine(_dir, $"table-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("nature2024", 1)]
    [InlineData("nature2024-ant", 1)]
    [InlineData("constant", 64)]
    public void PresetsChooseTheirRolloutShapeAndEnvsOverridesIt(string preset, int envs)
    {
        var config = ReadTrain("--method", "std", "--out", "x", "--preset", preset).Config;
        Assert.Equal(envs, config.Env.NumEnvs);
        Assert.Equal(2048 / envs, config.Ppo.StepsPerEnv(config.Env.NumEnvs));
        Assert.Equal(preset, config.Env.Preset);
        Assert.Equal(64, ReadTrain("--method", "std", "--out", "x", "--preset", preset, "--envs", "64").Config.Env.NumEnvs);
    }

    [Fact]
    public void PlainAntIsConstantFrictionOneFor20MSteps()
    {
        var config = ReadTrain("--method", "cbp", "--out", "x", "--preset", "nature2024-ant").Config;
        Assert.Equal(FrictionConfig.Constant(1.0), config.Env.Friction);
        Assert.Equal(1000, config.Env.Ant.MaxEpisodeSteps);
        Assert.Equal(20_000_768, config.Run.TotalSteps);
        Assert.Equal("1 env x 2048 steps", config.RolloutShape);
        Assert.Contains("\"RolloutShape\": \"1 env x 2048 steps\"", config.ToJson());
    }

    [Fact]
    public void AFrictionTableRowIsTheSeedsValuesInOrder()
    {
        string path = Table("# seed 0\n0.5, 1.5 0.25\n\n# seed 1\n2\t0.02 ,1\n0.1 0.2 0.3\n");
        var config = ReadTrain("--method", "std", "--out", "x", "--seed", "1", "--steps", "4M", "--frictions", path).Config;
        Assert.Equal([2, 0.02, 1], config.Env.Friction.Table!);
        var schedule = new FrictionSchedule(config.Env.Friction, 1);
        Assert.Equal([2, 0.02, 1], new[] { schedule.ValueAt(0), schedule.ValueAt(1), schedule.ValueAt(2) });
        Assert.Contains("\"Table\": [", config.ToJson());

        // Resuming with a budget the table cannot cover is refused by the configuration itself.
        var longer = config with { Run = config.Run with { TotalSteps = 8_000_000 } };
        Assert.Contains("the friction table has 3 values but 8,000,000 steps with a change every 2,000,000 need 5", longer.Validate());
    }

    [Fact]
    public void Nature2024SeedsBelow100TakeTheAuthorsRowAndOtherSeedsDraw()
    {
        var authors = ReadTrain("--method", "std", "--out", "x", "--seed", "7").Config;
        Assert.Equal(FrictionTable.ReadRow(FrictionTable.Authors, 7, 50), authors.Env.Friction.Table!);
        Assert.Equal(FrictionTable.Authors, authors.Env.Friction.TableSource);
        Assert.Contains("\"TableSource\": \"authors\"", authors.ToJson());
        Assert.Equal("the authors' table, row 7", authors.Env.Friction.DescribeValues(7));

        var drawn = ReadTrain("--method", "std", "--out", "x", "--seed", "100").Config;
        Assert.Null(drawn.Env.Friction.Table);
        Assert.Null(drawn.Env.Friction.TableSource);
        Assert.Equal("drawn from seed 100", drawn.Env.Friction.DescribeValues(100));
        Assert.Null(ReadTrain("--method", "std", "--out", "x", "--seed", "7", "--frictions", "draw").Config.Env.Friction.Table);
        Assert.Null(ReadTrain("--method", "std", "--out", "x", "--preset", "seed2023", "--seed", "7").Config.Env.Friction.Table);
        Assert.Null(ReadTrain("--method", "std", "--out", "x", "--preset", "nature2024-ant", "--seed", "7").Config.Env.Friction.Table);

        var beyond = Invoke("train", "--method", "std", "--out", "x", "--seed", "100", "--frictions", "authors");
        Assert.Equal(2, beyond.ExitCode);
        Assert.Contains("rows for seeds 0-99, not 100", beyond.ErrorLine);
        var tooMany = Invoke("train", "--method", "std", "--out", "x", "--change-every", "100k", "--frictions", "authors");
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("has 50 values but this run needs 201", tooMany.ErrorLine);
        Assert.Contains("--frictions draw", tooMany.ErrorLine);
        var shortPeriod = ReadTrain("--method", "std", "--out", "x", "--change-every", "100k");
        Assert.Null(shortPeriod.Config.Env.Friction.Table);
        Assert.Contains("drawing the values from seed 0 instead", string.Join("\n", shortPeriod.Notes));
    }

    [Theory]
    [InlineData("0.5 1 2\n", "0", "6M", "line 1 (seed 0) has 3 values but this run needs 4")]
    [InlineData("0.5 abc 2\n", "0", "2M", "line 1 (seed 0), value 2: 'abc' is not a friction")]
    [InlineData("# header\n1 1\n0.5 -1\n", "1", "2M", "line 3 (seed 1), value 2: '-1' is not a friction")]
    [InlineData("1 1\n", "3", "2M", "has 1 rows of values, so none for seed 3")]
    public void AMalformedOrShortTableIsOneUsageErrorNamingTheLine(string text, string seed, string steps, string expected)
    {
        string path = Table(text);
        var outcome = Invoke("train", "--method", "std", "--out", "x", "--seed", seed, "--steps", steps, "--frictions", path);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(path, outcome.ErrorLine);
        Assert.Contains(expected, outcome.ErrorLine);
    }

    [Fact]
    public void AFrictionTableNeedsAPresetWhoseFrictionChanges()
    {
        var outcome = Invoke("train", "--method", "std", "--out", "x", "--preset", "nature2024-ant", "--frictions", Table("1\n"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--frictions only applies to presets whose friction changes", outcome.ErrorLine);
        var missing = Invoke("train", "--method", "std", "--out", "x", "--frictions", Path.Combine(_dir, "absent.txt"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("cannot read the friction table", missing.ErrorLine);
    }
}
