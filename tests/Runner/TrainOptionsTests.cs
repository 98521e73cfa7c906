using CbpGpu.Tests;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using CbpGpu.Runner.Cli;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`train`'s options through the real command definitions into the <see cref="TrainConfig"/> the trainer gets.</summary>
public class TrainOptionsTests
{
    [Fact]
    public void DefaultsAreThePublishedSetup()
    {
        var request = ReadTrain("--method", "std", "--out", "runs/a");
        var nature = EnvSettings.Nature2024(1, ObservationKind.Standard);
        var expected = new TrainConfig(
            nature with { Friction = nature.Friction with { Table = FrictionTable.ReadRow(FrictionTable.Authors, 0, 50), TableSource = FrictionTable.Authors } },
            PpoSettings.For(PpoMethod.Standard),
            new RunSettings(0, 20_000_768, "cpu", 1, Environment.ProcessorCount, 100, OptimizerImpl.Fused, 10),
            null) { Eval = new EvalSettings(100_000, 10) };
        Assert.Equal(expected, request.Config);
        Assert.Equal("runs/a", request.OutDir);
        Assert.False(request.Resume);
    }

    [Fact]
    public void EveryOptionGivenReachesTheConfig()
    {
        var request = ReadTrain(
            "--method", "cbp", "--out", "runs/b", "--preset", "constant", "--friction", "0.5", "--steps", "2_048k",
            "--envs", "32", "--seed", "7", "--device", "cuda", "--threads", "3", "--torch-threads", "2", "--obs", "contact",
            "--bootstrap-truncation", "--checkpoint-every", "5", "--checkpoint-minutes", "0.5", "--resume",
            "--optimizer-impl", "naive", "--eval-every", "50k", "--eval-episodes", "3", "--cbp-preset", "seed2023", "--utility", "contribution", "--count-rule", "accumulate",
            "--reset-adam-state", "false", "--bias-correction", "--maturity", "1k", "--replacement-rate", "1e-3", "--decay", "0.9");
        var expected = new TrainConfig(
            EnvSettings.Constant(32, 0.5, ObservationKind.RealContact),
            PpoSettings.For(PpoMethod.Cbp, bootstrapTruncation: true),
            new RunSettings(7, 2_048_000, "cuda", 2, 3, 5, OptimizerImpl.Naive, 0.5),
            CbpSettings.Seed2023 with
            {
                Utility = UtilityKind.Contribution,
                CountRule = ReplacementCountRule.Accumulate,
                AdamReset = AdamStateReset.None,
                NextBiasCorrection = true,
                MaturityThreshold = 1000,
                ReplacementRate = 1e-3,
                Decay = 0.9,
            }) { Eval = new EvalSettings(50_000, 3) };
        Assert.Equal(expected, request.Config);
        Assert.Equal("runs/b", request.OutDir);
        Assert.True(request.Resume);
        Assert.Empty(request.Notes);
    }

    [Theory]
    [InlineData("std", "Standard")]
    [InlineData("NS", "NsAdam")]
    [InlineData("L2", "L2")]
    [InlineData("Cbp", "Cbp")]
    public void MethodsAreCaseInsensitive(string word, string method) =>
        Assert.Equal(PpoSettings.For(new PpoMethod(method)), ReadTrain("--method", word, "--out", "d").Config.Ppo);

    [Theory]
    [InlineData("2M", 2_000_000)]
    [InlineData("100k", 100_000)]
    [InlineData("3e5", 300_000)]
    [InlineData("1_000_000", 1_000_000)]
    [InlineData("2.5K", 2_500)]
    [InlineData("9007199254740993", 9_007_199_254_740_993)]
    public void CountsAcceptScaledNumbers(string text, long value) =>
        Assert.Equal((ulong)value, ReadTrain("--method", "std", "--out", "d", "--seed", text).Config.Run.Seed);

    [Theory]
    [InlineData("nature2024", "nature2024")]
    [InlineData("Seed2023", "seed2023")]
    [InlineData("CONSTANT", "nature2024")]
    public void CbpDefaultsFollowThePreset(string preset, string cbpPreset)
    {
        var cbp = ReadTrain("--method", "cbp", "--out", "d", "--preset", preset).Config.Cbp();
        Assert.Equal(cbpPreset == "seed2023" ? CbpSettings.Seed2023 : CbpSettings.Nature2024, cbp);
    }

    [Theory]
    [InlineData("nature2024", 100_000, 10)]
    [InlineData("nature2024-ant", 100_000, 10)]
    [InlineData("seed2023", 100_000, 10)]
    [InlineData("constant", 0, 0)]
    public void EvaluationIsOnInThePaperPresetsAndOffForConstant(string preset, long every, int episodes)
    {
        Assert.Equal(new EvalSettings(every, episodes), ReadTrain("--method", "std", "--out", "d", "--preset", preset).Config.Eval);
        Assert.Equal(EvalSettings.Off, ReadTrain("--method", "std", "--out", "d", "--preset", preset, "--eval-every", "0").Config.Eval);
        Assert.Equal(new EvalSettings(2048, 4), ReadTrain("--method", "std", "--out", "d", "--preset", preset, "--eval-every", "2048", "--eval-episodes", "4").Config.Eval);
    }

    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "true" }, true)]
    [InlineData(new[] { "False" }, false)]
    public void OptionalSwitchesTakeNothingTrueOrFalse(string[] value, bool expected)
    {
        var cbp = ReadTrain(["--method", "cbp", "--out", "d", "--cbp-preset", "nature2024", "--bias-correction", .. value]).Config.Cbp()!;
        Assert.Equal(expected, cbp.NextBiasCorrection);
        Assert.False(ReadTrain("--method", "std", "--out", "d", "--resume", "false").Resume);
    }

    [Fact]
    public void StepsThatAreNotWholeUpdatesAreRoundedUpWithANote()
    {
        var request = ReadTrain("--method", "std", "--out", "d", "--steps", "100000");
        Assert.Equal(100_352, request.Config.Run.TotalSteps);
        Assert.Equal("note: --steps 100000 is not a whole number of 2,048-step updates; training 100,352 steps (49 updates)", Assert.Single(request.Notes));

        var exact = ReadTrain("--method", "std", "--out", "d", "--steps", "4096");
        Assert.Equal(4096, exact.Config.Run.TotalSteps);
        Assert.Empty(exact.Notes);

        var one = ReadTrain("--method", "std", "--out", "d", "--steps", "100");
        Assert.Equal("note: --steps 100 is not a whole number of 2,048-step updates; training 2,048 steps (1 update)", Assert.Single(one.Notes));

        var preset = ReadTrain("--method", "std", "--out", "d", "--preset", "seed2023");
        Assert.Equal(100_003_840, preset.Config.Run.TotalSteps);
        Assert.Equal("note: the seed2023 preset's 100,000,000 steps are not a whole number of 4,096-step updates; training 100,003,840 steps (24,415 updates)", Assert.Single(preset.Notes));
    }

    [Fact]
    public void ScaledNumbersFormatAsTheyParse()
    {
        foreach (var (text, value) in new[] { ("1e-6", 1e-6), ("0.99", 0.99), ("2048", 2048.0), ("1,000,000", 1e6) })
        {
            Assert.Equal(text, ScaledNumber.Format(value));
            Assert.True(ScaledNumber.TryParse(text.Replace(",", "_", StringComparison.Ordinal), out double parsed));
            Assert.Equal(value, parsed);
        }
        Assert.False(ScaledNumber.TryParse("1e400", out _));
        Assert.False(ScaledNumber.TryParse("M", out _));
    }
}
