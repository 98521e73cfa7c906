using System.CommandLine.Help;
using System.Text.Json.Nodes;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Settings;
using CbpGpu.Runner.Cli;
using CbpGpu.Runner.Commands;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>train's settings are declared once (docs/extending.md#settings): every option comes from one declaration, and FlagsFor inverts Read.</summary>
public class TrainSettingsTests
{
    private static readonly string[] Presets = ["nature2024", "nature2024-ant", "seed2023", "constant", "nature2024-hopper", "nature2024-walker"];

    [Fact]
    public void EveryTrainOptionIsOneDeclarationsOrAListedNonSetting()
    {
        var train = new TrainCommand();
        var declared = train.SettingOptions.Select(o => o.Option).ToList();
        var methodPresets = train.MethodOptions.Select(m => (System.CommandLine.Option)m.Preset).ToList();
        foreach (var option in train.Options.Where(o => o is not HelpOption))
        {
            int sources = declared.Count(o => o == option) + methodPresets.Count(p => p == option) + train.NotSettings.Count(n => n == option);
            Assert.True(sources == 1, $"{option.Name} comes from {sources} places (declarations, method presets, the non-setting flags); want exactly 1");
        }
        // And each declaration is one option of train's: no flag is declared twice.
        var flags = TrainSettings.Blocks.SelectMany(b => b.Settings).Concat(MethodRegistry.Schemas.SelectMany(s => s.Settings)).Select(s => s.Flag).ToList();
        Assert.Equal(flags.Count, flags.Distinct().Count());
        Assert.Equal(flags.Order(), train.SettingOptions.Select(o => o.Option.Name).Order());
        Assert.Equal(
            ["--config", "--learner", "--libtorch", "--method", "--out", "--preset", "--resume", "--resume-if-present"],
            train.NotSettings.Select(o => o.Name).Order());
    }

    [Fact]
    public void EachDeclarationsJsonPathIsInConfigJson()
    {
        // An env of its own (Ant.Name), videos (Eval.VideoEveryEnvSteps) and a friction table (TableSource): every key written.
        JsonObject[] files =
        [
            JsonNode.Parse(ReadTrain("--method", "std", "--out", ".", "--env", "hopper").Config.ToJson())!.AsObject(),
            JsonNode.Parse(ReadTrain("--method", "std", "--out", ".", "--video-every", "100k").Config.ToJson())!.AsObject(),
        ];
        foreach (var block in TrainSettings.Blocks)
            foreach (var s in block.Settings)
                Assert.True(files.Any(json => Has(json[block.JsonKey]!.AsObject(), s.JsonName.Split('.'))), $"{s.Flag}: config.json has no {block.JsonKey}.{s.JsonName}");

        static bool Has(JsonObject at, string[] keys) =>
            keys.Length == 1 ? at.ContainsKey(keys[0]) : at[keys[0]] is JsonObject inner && Has(inner, keys[1..]);
    }

    public static TheoryData<string, string, string> PresetLearnerMethod()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string preset in Presets)
            foreach (var (learner, _) in PpoSettings.Learners)
                foreach (var method in MethodRegistry.All)
                    data.Add(preset, learner, method.Word);
        return data;
    }

    [Theory]
    [MemberData(nameof(PresetLearnerMethod))]
    public void FlagsForReadsBackTheSameConfig(string preset, string learner, string method)
    {
        var config = ReadTrain("--method", method, "--preset", preset, "--learner", learner, "--out", ".").Config;
        var train = new TrainCommand();
        var flags = train.FlagsFor(config).ToList();
        var again = ReadTrain([.. flags.SelectMany(f => f.Values.Prepend(f.Option.Name)), "--out", "."]).Config;
        Assert.Equal(config.ToJson(), again.ToJson());
        Assert.Equal(config with { MethodSettings = null }, again with { MethodSettings = null });
        Assert.Equal(config.MethodSettings, again.MethodSettings);
        Assert.Equal(flags.Select(f => $"{f.Option.Name} {string.Join(' ', f.Values)}"), train.FlagsFor(again).Select(f => $"{f.Option.Name} {string.Join(' ', f.Values)}"));
    }

    [Fact]
    public void FlagsForReadsBackSettingsAwayFromThePresets()
    {
        var config = ReadTrain("--method", "cbp", "--preset", "seed2023", "--out", ".", "--engine", "mujoco", "--obs", "27", "--change-every", "300k",
            "--frictions", "draw", "--envs", "8", "--steps", "1M", "--seed", "3", "--threads", "1", "--torch-threads", "2", "--cpu-kernels", "portable",
            "--checkpoint-every", "7", "--checkpoint-minutes", "2.5", "--optimizer-impl", "naive", "--eval-every", "50k", "--eval-episodes", "4",
            "--activation", "relu", "--init", "lecun-uniform", "--hidden-gain", "2", "--policy-output-gain", "0.5", "--value-output-gain", "3",
            "--lr", "3e-4", "--adam-eps", "1e-7", "--weight-decay", "1e-5", "--value-coef", "0.25", "--max-grad-norm", "off", "--advantage-norm", "batch",
            "--batch-size", "2048", "--minibatch-size", "64", "--bootstrap-truncation", "--maturity", "123").Config;
        var train = new TrainCommand();
        var again = ReadTrain([.. train.FlagsFor(config).SelectMany(f => f.Values.Prepend(f.Option.Name)), "--out", "."]).Config;
        Assert.Equal(config.ToJson(), again.ToJson());
        Assert.Null(config.Ppo.MaxGradNorm);
        Assert.Equal(2048 / 64, config.Ppo.Minibatches);
        Assert.Equal(300_000, config.Env.Friction.ChangeEverySteps);
    }
}
