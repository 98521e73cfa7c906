using System.Globalization;
using System.Runtime.CompilerServices;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using CbpGpu.Tests.Agent;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Methods;

/// <summary>The toy method's settings: how much of each weight it takes away after every optimizer step.</summary>
public sealed record ToySettings(double Shrink);

/// <summary>
/// A plasticity method defined here, in the test project, and nowhere under src/ (docs/extending.md): after every
/// optimizer step it shrinks the flat parameters by (1 - Shrink) and remembers the mean first hidden activation of the
/// minibatch; after every update it counts. Its two columns go to updates.csv, its state to the checkpoint block "toy".
/// Everything else (train, --config, sweep, resume, plot) comes from its registration below: this file is the whole
/// method.
/// </summary>
public static class ToyMethod
{
    public static PpoMethod Id { get; } = new("Toy");

    public static MethodSettingsSchema Schema { get; } = new()
    {
        Title = "TOY",
        JsonKey = "Toy",
        Type = typeof(ToySettings),
        PresetFlag = "--toy-preset",
        PresetHelp = "TOY: gentle (shrink 1e-4) or strong (1e-3); default: gentle",
        Presets = [("gentle", new ToySettings(1e-4)), ("strong", new ToySettings(1e-3))],
        DefaultPreset = _ => "gentle",
        Settings =
        [
            Setting<ToySettings>.Real("--toy-shrink", "S", "TOY: fraction of each weight taken away after every optimizer step", nameof(ToySettings.Shrink),
                0, 0.1, s => s.Shrink, (s, v) => s with { Shrink = v }),
        ],
        Validate = s => ((ToySettings)s).Shrink is >= 0 and <= 0.1 ? null : "the toy's shrink must be in [0, 0.1]",
    };

#pragma warning disable CA2255 // the test process's registry holds the toy from the start, as src's built-in methods are registered
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => MethodRegistry.Register(new PlasticityMethod
    {
        Word = "toy", Id = Id, Order = 100,
        Summary = "a toy of the test project (shrinks every weight after each step)",
        Nature2024Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-8, 0),
        Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 0),
        Settings = Schema,
        CheckpointBlock = ("toy", 1),
        Build = b => b.PlainOptimizer().With(new Hook((ToySettings)b.Settings!)),
    });

    private sealed class Hook(ToySettings settings) : IPlasticityHook
    {
        private long _updates;
        private double _meanH1;

        public void AfterStep(in StepView step)
        {
            using (no_grad()) step.Parameters.Data.mul_(1 - settings.Shrink);
            using var mean = step.HiddenActivations[0].mean();
            _meanH1 = mean.item<float>();
        }

        public void AfterUpdate(int update) => _updates = update;

        public IReadOnlyList<string> Columns => ["toy_updates", "toy_mean_h1"];

        public void WriteColumns(Span<double> values)
        {
            values[0] = _updates;
            values[1] = _meanH1;
        }

        public void Save(BinaryWriter writer)
        {
            writer.Write(_updates);
            writer.Write(_meanH1);
        }

        public void Load(BinaryReader reader)
        {
            if (reader.BaseStream.Length != 16) throw new InvalidDataException($"the toy's state is 16 bytes, not {reader.BaseStream.Length}");
            _updates = reader.ReadInt64();
            _meanH1 = reader.ReadDouble();
        }

        public void Dispose() { }
    }
}

/// <summary>The seam is open: the toy above trains, resumes byte-identically, sweeps and plots with no change under src/.</summary>
public sealed class ToyMethodTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("toy");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static string[] Train(string dir, string steps, params string[] more) =>
        ["train", "--method", "toy", "--preset", "constant", "--envs", "16", "--steps", steps, "--threads", "2", "--out", dir, "--toy-shrink", "2e-4", .. more];

    [Fact]
    public void TheToyTrainsResumesExactlyAndPlotsUnderItsOwnName()
    {
        string straight = Path.Combine(_root, "straight"), split = Path.Combine(_root, "split");
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train(straight, "4096")));
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train(split, "2048")));
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train(split, "4096", "--resume")));

        // Its settings block and name in config.json, its columns in updates.csv, its block in the checkpoint.
        var config = TrainConfig.FromJson(File.ReadAllText(Path.Combine(straight, RunDirectory.ConfigFile)));
        Assert.Equal(ToyMethod.Id, config.Ppo.Method);
        Assert.Equal(new ToySettings(2e-4), config.MethodSettings);
        Assert.Contains("\"Toy\": {\n    \"Shrink\": 0.0002\n  }", File.ReadAllText(Path.Combine(straight, RunDirectory.ConfigFile)).ReplaceLineEndings("\n"));
        string[] rows = File.ReadAllLines(Path.Combine(straight, RunDirectory.UpdatesFile));
        string[] header = rows[0].Split(',');
        int updates = Array.IndexOf(header, "toy_updates"), mean = Array.IndexOf(header, "toy_mean_h1");
        Assert.Equal(["1", "2"], rows.Skip(1).Select(r => r.Split(',')[updates]));
        Assert.All(rows.Skip(1), r => Assert.True(double.Parse(r.Split(',')[mean], CultureInfo.InvariantCulture) > 0));   // mean ReLU output
        using (var file = File.OpenRead(Path.Combine(straight, RunDirectory.CheckpointFile)))
            Assert.True(BlockReader.Read(file, Checkpoint.Magic, Checkpoint.FormatVersion).Has("toy"));

        // A resumed run writes what an uninterrupted one does.
        Assert.Equal(TrainRuns.Episodes(straight), TrainRuns.Episodes(split));
        Assert.Equal(TrainRuns.UpdatesWithoutTimings(straight), TrainRuns.UpdatesWithoutTimings(split));

        // Shrinking changes what is computed: the same seed under std differs.
        string std = Path.Combine(_root, "std");
        Assert.Equal(0, CbpGpu.Runner.Program.Main(["train", "--method", "std", "--preset", "constant", "--envs", "16", "--steps", "2048", "--threads", "2", "--out", std]));
        Assert.NotEqual(File.ReadAllLines(Path.Combine(std, RunDirectory.UpdatesFile))[1].Split(',')[2], rows[1].Split(',')[2]);

        // Plotted under its own name, beside std.
        string figures = Path.Combine(_root, "figures");
        var plot = Invoke("plot", straight, std, "--out", figures);
        Assert.True(plot.ExitCode == 0, plot.Error);
        string[] lines = [.. Directory.GetFiles(figures, "*.csv").SelectMany(File.ReadAllLines)];
        Assert.Contains(lines, l => l.StartsWith("toy,", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("std,", StringComparison.Ordinal));
    }

    [Fact]
    public void TheToysFlagsPresetsConfigAndSweepComeFromItsDeclaration()
    {
        Assert.Equal(new ToySettings(1e-3), ReadTrain("--method", "toy", "--out", "d", "--toy-preset", "strong").Config.MethodSettings);
        Assert.Equal(new ToySettings(1e-4), ReadTrain("--method", "toy", "--out", "d").Config.MethodSettings);
        var refused = Invoke("train", "--method", "std", "--out", Path.Combine(_root, "x"), "--toy-shrink", "0.01");
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal("error: --toy-shrink only applies to --method toy; drop it or use --method toy", refused.ErrorLine);
        var option = new CbpGpu.Runner.Commands.TrainCommand().Options.Single(o => o.Name == "--toy-shrink");
        Assert.Equal("TOY: fraction of each weight taken away after every optimizer step (default from --toy-preset: gentle 1e-4, strong 0.001)", option.Description);

        // --config: the file's toy settings come back exactly.
        string json = ReadTrain("--method", "toy", "--out", "d", "--toy-shrink", "0.003", "--steps", "4096").Config.ToJson();
        Directory.CreateDirectory(_root);
        string file = Path.Combine(_root, "config.json");
        File.WriteAllText(file, json);
        Assert.Equal(json, ReadTrain(CbpGpu.Runner.Cli.ConfigArguments.Expand(["train", "--config", file, "--out", "d"])[1..]).Config.ToJson());

        // A sweep gives the toy's grid axis to the toy's runs only.
        var parsed = CbpGpu.Runner.Cli.RunnerCommandLine.Create().Parse(["sweep", "--methods", "std,toy", "--seeds", "0", "--out", "sw", "--grid", "toy-shrink=1e-3,1e-2"]);
        Assert.Empty(parsed.Errors);
        var request = Assert.IsType<CbpGpu.Runner.Commands.SweepCommand>(parsed.CommandResult.Command).Read(parsed);
        Assert.Equal(3, request.Runs.Count);
        Assert.DoesNotContain("--toy-shrink", request.Runs[0].TrainArgs);
        Assert.Equal([1e-3, 1e-2], request.Runs.Skip(1).Select(r => ((ToySettings)ReadTrain([.. r.TrainArgs.Skip(1)]).Config.MethodSettings!).Shrink));
    }
}
