using CbpGpu.Tests;
using CbpGpu.Runner.Cli;
using CbpGpu.Runner.Commands;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`sweep --grid` and `--grid-file` into the runs they plan (without running them), their errors, and the Slurm script of a grid.</summary>
public sealed class SweepGridTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cbpgpu-grid-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static SweepRequest ReadSweep(params string[] options)
    {
        var parsed = RunnerCommandLine.Create().Parse(ConfigArguments.Expand(["sweep", .. options]));
        Assert.Empty(parsed.Errors);
        return Assert.IsType<SweepCommand>(parsed.CommandResult.Command).Read(parsed);
    }

    private static readonly string[] Common = ["--seeds", "0-1", "--out", "sw", "--preset", "constant", "--steps", "4096", "--parallel", "2"];

    [Fact]
    public void TheGridIsTheProductOfItsAxesFirstAxisSlowestForEveryMethodThatTakesItsFlags()
    {
        var request = ReadSweep(["--methods", "std,cbp", .. Common, "--grid", "replacement-rate=1e-3,1e-4 maturity=500,5000"]);
        // CBP-only flags vary cbp runs only: std runs once per seed, in the plain layout.
        Assert.Equal(
        [
            "std seed 0", "std seed 1",
            "cbp maturity=500,replacement-rate=1e-3 seed 0", "cbp maturity=500,replacement-rate=1e-3 seed 1",
            "cbp maturity=5000,replacement-rate=1e-3 seed 0", "cbp maturity=5000,replacement-rate=1e-3 seed 1",
            "cbp maturity=500,replacement-rate=1e-4 seed 0", "cbp maturity=500,replacement-rate=1e-4 seed 1",
            "cbp maturity=5000,replacement-rate=1e-4 seed 0", "cbp maturity=5000,replacement-rate=1e-4 seed 1",
        ], request.Runs.Select(r => r.Name));
        Assert.Equal(Path.Combine("sw", "std", "seed-1"), request.Runs[1].Directory);
        Assert.Equal("std-seed-1.log", request.Runs[1].LogName);
        var run = request.Runs[9];
        Assert.Equal(Path.Combine("sw", "cbp", "maturity=5000,replacement-rate=1e-4", "seed-1"), run.Directory);
        Assert.Equal("cbp-maturity=5000,replacement-rate=1e-4-seed-1.log", run.LogName);
        int threads = Math.Max(1, Environment.ProcessorCount / 2);
        Assert.Equal(
            ["train", "--method", "cbp", "--seed", "1", "--out", run.Directory, "--resume-if-present", "--preset", "constant", "--steps", "4096",
             "--maturity", "5000", "--replacement-rate", "1e-4", "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            run.TrainArgs);
        Assert.All(request.Runs, r => Assert.Null(r.Problem));
        var cbp = ReadTrain([.. run.TrainArgs.Skip(1)]).Config.Cbp()!;
        Assert.Equal(5000, cbp.MaturityThreshold);
        Assert.Equal(1e-4, cbp.ReplacementRate);
    }

    [Fact]
    public void AFlagEveryMethodTakesVariesEveryMethodAndZippedFlagsVaryTogether()
    {
        var request = ReadSweep(["--methods", "std,cbp", .. Common, "--grid", "envs=8,16 replacement-rate,maturity=1e-3:500,1e-4:5000"]);
        Assert.Equal(
        [
            Path.Combine("std", "envs=8"), Path.Combine("std", "envs=16"),
            Path.Combine("cbp", "envs=8,maturity=500,replacement-rate=1e-3"), Path.Combine("cbp", "envs=8,maturity=5000,replacement-rate=1e-4"),
            Path.Combine("cbp", "envs=16,maturity=500,replacement-rate=1e-3"), Path.Combine("cbp", "envs=16,maturity=5000,replacement-rate=1e-4"),
        ], request.Runs.Where(r => r.Seed == 0).Select(r => Path.GetRelativePath("sw", Path.GetDirectoryName(r.Directory)!)));
        Assert.Equal(16, ReadTrain([.. request.Runs[2].TrainArgs.Skip(1)]).Config.Env.NumEnvs);
    }

    [Fact]
    public void TheReportsCppoGridIsSevenConfigurations()
    {
        var request = ReadSweep("--methods", "cbp", "--seeds", "0", "--out", "cppo", "--preset", "seed2023",
            "--grid", "replacement-rate,maturity=1e-3:500,1e-3:100,1e-4:5000,1e-4:500,1e-5:10000,1e-5:50000,1e-8:500000");
        Assert.Equal(
        [
            "maturity=500,replacement-rate=1e-3", "maturity=100,replacement-rate=1e-3", "maturity=5000,replacement-rate=1e-4",
            "maturity=500,replacement-rate=1e-4", "maturity=10000,replacement-rate=1e-5", "maturity=50000,replacement-rate=1e-5",
            "maturity=500000,replacement-rate=1e-8",
        ], request.Runs.Select(r => r.Configuration.Name));
        Assert.Equal(1e-8, ReadTrain([.. request.Runs[6].TrainArgs.Skip(1)]).Config.Cbp()!.ReplacementRate);
    }

    [Fact]
    public void RunsDoNotDependOnTheOrderOrTheSpellingOfTheGrid()
    {
        var a = ReadSweep(["--methods", "cbp", .. Common, "--grid", "replacement-rate=1e-3,1e-4 maturity=500,5000"]);
        var b = ReadSweep(["--methods", "cbp", .. Common, "--grid", "maturity=5k,5e2  replacement-rate = 0.0001 , 0.001"]);
        Assert.Equal(
            a.Runs.Select(r => (r.Directory, string.Join(' ', r.TrainArgs), r.LogName)).Order(),
            b.Runs.Select(r => (r.Directory, string.Join(' ', r.TrainArgs), r.LogName)).Order());
        Assert.NotEqual(a.Runs.Select(r => r.Directory), b.Runs.Select(r => r.Directory));   // same runs, in the grid's order
    }

    [Theory]
    [InlineData("--replacement-rate", "0.001", "1e-3")]
    [InlineData("--replacement-rate", "1E-3", "1e-3")]
    [InlineData("--replacement-rate", "0.00025", "2.5e-4")]
    [InlineData("--replacement-rate", "0.05", "5e-2")]
    [InlineData("--decay", "0.99", "0.99")]
    [InlineData("--hidden-gain", "1.4142135623730951", "1.4142135623730951")]
    [InlineData("--weight-decay", "0", "0")]
    [InlineData("--maturity", "5k", "5000")]
    [InlineData("--steps", "1_000_000", "1000000")]
    [InlineData("--change-every", "2.5M", "2500000")]
    [InlineData("--max-grad-norm", "OFF", "off")]
    [InlineData("--max-grad-norm", "0.5", "0.5")]
    [InlineData("--reset-adam-state", "true", "all")]
    [InlineData("--count-rule", "Layer-Coin", "layer-coin")]
    [InlineData("--reset-bias", "False", "false")]
    public void EachValueHasOneSpelling(string flag, string text, string expected) => Assert.Equal(expected, FlagValue.Canonical(flag, text));

    [Theory]
    [InlineData("unknown flag", "maturty=500", "--grid: unknown train flag 'maturty'; did you mean maturity? (see 'Runner train --help')")]
    [InlineData("empty list", "maturity=", "--grid: maturity= lists no values")]
    [InlineData("empty value", "maturity=500,,5000", "--grid: 'maturity=500,,5000' has an empty value (two commas, or one at an end)")]
    [InlineData("bad value", "maturity=500,lots", "--grid: maturity=lots: --maturity must be a whole number (like 300k, 2M, 3e5 or 1_000_000), not 'lots'")]
    [InlineData("value out of range", "replacement-rate=2", "--grid: replacement-rate=2: --replacement-rate must be between 0 and 1, not 2")]
    [InlineData("bad choice", "count-rule=coin", "--grid: count-rule=coin: --count-rule must be one of probabilistic|accumulate|layer-coin, not 'coin'")]
    [InlineData("owned flag: seed", "seed=1,2", "--grid: seed is the sweep's own: list seeds with --seeds")]
    [InlineData("owned flag: method", "method=std,l2", "--grid: method is the sweep's own: list methods with --methods")]
    [InlineData("owned flag: out", "out=a,b", "--grid: out is the sweep's own: each run's directory is named by the sweep")]
    [InlineData("duplicated flag", "maturity=500 count-rule=accumulate maturity=5000", "--grid: maturity is named twice; name each flag once (flags that vary together go in one axis: a,b=1:2,3:4)")]
    [InlineData("duplicated flag in one axis", "maturity,count-rule,maturity=1:accumulate:2", "--grid: maturity is named twice; name each flag once (flags that vary together go in one axis: a,b=1:2,3:4)")]
    [InlineData("flag with its dashes", "maturity=500 --decay=0.9", "--grid: write flag names without their dashes: decay, not --decay")]
    [InlineData("one value in two spellings", "replacement-rate=0.001,1e-4,1e-3", "--grid: replacement-rate lists 1e-3 twice (as 0.001 and 1e-3); list each value once")]
    [InlineData("tuple of the wrong size", "replacement-rate,maturity=1e-3:500,1e-4", "--grid: '1e-4' in 'replacement-rate,maturity=1e-3:500,1e-4' is not 2 values joined by ':' (one per flag: replacement-rate:maturity)")]
    [InlineData("not an axis", "maturity 500", "--grid: 'maturity' is not flag=value,value (or flag,flag=value:value,value:value)")]
    [InlineData("no axes", " # all commented out", "--grid: names no flags; write flag=value,value [flag=value,...] (docs/sweeps.md#grids)")]
    [InlineData("value not fit for a directory name", "frictions=tables/a.txt", "--grid: frictions=tables/a.txt: a grid value names run directories, so it may hold only letters, digits and . _ + -; give this flag on its own instead")]
    [InlineData("flag also given on its own", "decay=0.9,0.99", "--grid: decay is also given as --decay; drop one")]
    public void AMalformedGridIsOneErrorLineWithExitCode2AndWritesNothing(string why, string grid, string message)
    {
        string sweep = Path.Combine(_dir, "sweep");
        var outcome = Invoke("sweep", "--methods", "std,cbp", "--seeds", "0", "--out", sweep, "--decay", "0.9", "--grid", grid);
        Assert.True(outcome.ExitCode == 2, why);
        Assert.Equal($"error: {message}", outcome.ErrorLine);
        Assert.Equal("", outcome.Output);
        Assert.False(Directory.Exists(sweep), why);
    }

    [Fact]
    public void CbpFlagsWithoutCbpRunsAreAnError()
    {
        var outcome = Invoke("sweep", "--methods", "std,l2", "--seeds", "0", "--out", Path.Combine(_dir, "sweep"), "--grid", "maturity=500,5000");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("error: --grid: maturity applies to --method cbp or cbpi only, and --methods has no cbp or cbpi", outcome.ErrorLine);
    }

    [Fact]
    public void AGridFileIsTheSameGridAndItsErrorsNameIt()
    {
        string file = Path.Combine(_dir, "cppo.grid");
        File.WriteAllText(file, """
            # the report's CPPO configurations (SPEC 4b): replacement rate and maturity together
            replacement-rate, maturity = 1e-3:500, 1e-4:5000
            decay = 0.9, 0.99   # and each with two decays
            """);
        var fromFile = ReadSweep(["--methods", "cbp", .. Common, "--grid-file", file]);
        var inline = ReadSweep(["--methods", "cbp", .. Common, "--grid", "replacement-rate,maturity=1e-3:500,1e-4:5000 decay=0.9,0.99"]);
        Assert.Equal(inline.Runs.Select(r => string.Join(' ', r.TrainArgs)), fromFile.Runs.Select(r => string.Join(' ', r.TrainArgs)));
        Assert.Equal(8, fromFile.Runs.Count);

        File.WriteAllText(file, "maturity = 500, 5000\nmaturity = 100\n");
        var outcome = Invoke("sweep", "--methods", "cbp", "--seeds", "0", "--out", Path.Combine(_dir, "sweep"), "--grid-file", file);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"error: --grid-file {file}: maturity is named twice; name each flag once (flags that vary together go in one axis: a,b=1:2,3:4)", outcome.ErrorLine);
        var both = Invoke("sweep", "--methods", "cbp", "--seeds", "0", "--out", Path.Combine(_dir, "sweep"), "--grid-file", file, "--grid", "maturity=1");
        Assert.Equal("error: --grid and --grid-file are both given; give one", both.ErrorLine);
        var missing = Invoke("sweep", "--methods", "cbp", "--seeds", "0", "--out", Path.Combine(_dir, "sweep"), "--grid-file", Path.Combine(_dir, "none.grid"));
        Assert.Equal(2, missing.ExitCode);
        Assert.StartsWith($"error: --grid-file {Path.Combine(_dir, "none.grid")}: cannot read it: ", missing.ErrorLine);
        Assert.False(Directory.Exists(Path.Combine(_dir, "sweep")));
    }

    [Fact]
    public void AConfigFileLeavesTheGridsFlagsToTheGrid()
    {
        string config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, ReadTrain("--method", "cbp", "--out", "d", "--preset", "seed2023", "--steps", "4096", "--maturity", "123", "--decay", "0.9").Config.ToJson());
        var request = ReadSweep("--config", config, "--methods", "cbp", "--seeds", "0", "--out", "sw", "--grid", "maturity=500,5000");
        Assert.Equal([500, 5000], request.Runs.Select(r => ReadTrain([.. r.TrainArgs.Skip(1)]).Config.Cbp()!.MaturityThreshold));
        Assert.All(request.Runs, r => Assert.Equal(0.9, ReadTrain([.. r.TrainArgs.Skip(1)]).Config.Cbp()!.Decay));
        Assert.All(request.Runs, r => Assert.Single(r.TrainArgs, "--maturity"));
    }

    [Fact]
    public void ARunItsConfigurationRefusesFailsAloneAsWithoutAGrid()
    {
        // 100 does not divide the 2,048-transition batch: train refuses that configuration; the other one runs.
        var request = ReadSweep(["--methods", "std", .. Common, "--grid", "minibatch-size=128,100"]);
        Assert.Equal([null, null], request.Runs.Where(r => r.Configuration.Name == "minibatch-size=128").Select(r => r.Problem));
        Assert.All(request.Runs.Where(r => r.Configuration.Name == "minibatch-size=100"),
            r => Assert.Equal("--minibatch-size 100 must divide the batch of 2048 transitions", r.Problem));
    }

    [Fact]
    public void TheSlurmScriptHasOneTaskPerMethodConfigurationAndSeed()
    {
        string file = Path.Combine(_dir, "grid.sh");
        var outcome = Invoke("sweep", "--methods", "std,cbp", "--seeds", "0-1", "--out", Path.Combine(_dir, "sw"), "--preset", "constant",
            "--grid", "replacement-rate,maturity=1e-3:500,1e-4:5000", "--emit", "slurm", file, "--slurm-cpus", "4");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Contains($"runs go to {Path.Combine(_dir, "sw")}/<method>/<configuration>/seed-<n>/", outcome.Output);
        string[] lines = File.ReadAllLines(file);
        Assert.Contains("#SBATCH --array=0-5", lines);
        string[] tasks = [.. lines.Where(l => l.Contains(") set -- ", StringComparison.Ordinal))];
        Assert.Equal(6, tasks.Length);
        string dir = Path.Combine(_dir, "sw", "cbp", "maturity=5000,replacement-rate=1e-4", "seed-1");
        Assert.Equal(
            $"  5) set -- train --method cbp --seed 1 --out {dir} --resume-if-present --preset constant --maturity 5000 --replacement-rate 1e-4 --threads 4 ;;  # cbp maturity=5000,replacement-rate=1e-4 seed 1",
            tasks[5]);
        Assert.StartsWith($"  1) set -- train --method std --seed 1 --out {Path.Combine(_dir, "sw", "std", "seed-1")} --resume-if-present --preset constant --threads 4 ;;", tasks[1]);
    }
}
