using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using CbpGpu.Runner.Commands;
using ScottPlot;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`Runner plot`'s numbers against hand-computed cases, and the figures of a hand-made run directory.</summary>
public sealed class PlotTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"cbpgpu-plot-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    /// <summary>A Random that hands out a fixed sequence of indices, so the bootstrap's resamples are known.</summary>
    private sealed class ScriptedRandom(params int[] indices) : Random
    {
        private int _next;
        public override int Next(int maxValue) => indices[_next++];
    }

    [Fact]
    public void TheBootstrapBandIsThePercentilesOfTheResampledMeans()
    {
        // Resamples (indices into 1, 2, 4): all 1s, all 2s, all 4s, one of each -> means 1, 2, 4, 7/3.
        var rng = new ScriptedRandom(0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1, 2);
        var (mean, low, high) = PlotStatistics.Bootstrap([1.0, 2.0, 4.0], 4, rng);
        Assert.Equal(7.0 / 3, mean, 12);
        // Sorted means 1, 2, 7/3, 4; rank 0.025 * 3 = 0.075 and 0.975 * 3 = 2.925, interpolated linearly.
        Assert.Equal(1 + 0.075 * (2 - 1), low, 12);
        Assert.Equal(7.0 / 3 + 0.925 * (4 - 7.0 / 3), high, 12);
    }

    [Fact]
    public void BinsHoldTheEpisodesThatEndedInsideThemAndTheUpperEdge()
    {
        var means = PlotStatistics.BinMeans([(1, 1.0), (100, 3.0), (101, 10.0), (301, 7.0)], 100, 3);   // 301 lies past the last bin
        Assert.Equal(2.0, means[0]);
        Assert.Equal(10.0, means[1]);
        Assert.True(double.IsNaN(means[2]));
    }

    [Fact]
    public void ARunsBinCountsOnceTheRunHasCoveredHalfOfIt()
    {
        // Run A reached step 212 (bin 2 = (200, 300] barely begun: its episode at 205 is left out); run B reached 250
        // (half of bin 2: counted). Bins of 100 steps, one resample drawn from a fixed Random (one value: no spread).
        IReadOnlyList<(long, double)> a = [(50, 1.0), (150, 3.0), (205, 100.0)], b = [(60, 5.0), (160, 7.0), (240, 9.0)];
        var curve = PlotStatistics.BinnedCurve([(a, 212), (b, 250)], 100, 1, 0);
        Assert.Equal([(0L, 2, 3.0), (100L, 2, 5.0), (200L, 1, 9.0)], curve.Select(c => (c.Start, c.Runs, c.Mean)));
        // Alone, run A has no third point.
        Assert.Equal([0L, 100L], PlotStatistics.BinnedCurve([(a, 212)], 100, 1, 0).Select(c => c.Start));
    }

    [Fact]
    public void EachRunCountsOnceInABinHoweverManyPointsItHasThere()
    {
        // Per-layer columns (one point per update) are binned this way: run A's two updates in (0, 2000] give one
        // value, 2, beside run B's 10, so the bin's mean over runs is 6 (not 14/3, the mean over points). Bin (2000,
        // 4000]: A reached 3000 (half: counted), B 2600 (less than half: its 20 is left out).
        IReadOnlyList<(long, double)> a = [(1000, 1.0), (2000, 3.0), (3000, 5.0)], b = [(1000, 10.0), (2500, 20.0)];
        var bins = PlotStatistics.RunBinMeans([(a, 3000), (b, 2600)], 2000).ToList();
        Assert.Equal([(0L, 2000L), (2000L, 4000L)], bins.Select(x => (x.Start, x.End)));
        Assert.Equal([2.0, 10.0], bins[0].Values);
        Assert.Equal([5.0], bins[1].Values);
    }

    [Fact]
    public void FrictionPeriodsFollowTheOrderValuesAppearInAndKeepLateEpisodesOfAnOldValue()
    {
        var periods = PlotStatistics.FrictionPeriods([(10, 1.0, 0.5), (20, 3.0, 0.5), (30, 10.0, 2.0), (40, 5.0, 0.5), (50, 20.0, 2.0), (60, 7.0, 0.1)]);
        Assert.Equal(
            [new FrictionPeriod(0, 0.5, 3, 3.0), new FrictionPeriod(1, 2.0, 2, 15.0), new FrictionPeriod(2, 0.1, 1, 7.0)],
            periods);
    }

    [Fact]
    public void APeriodIsCompleteOnceTheNextHasBegunOrTheRunReachedItsBudget()
    {
        // Training: 1 and 3 at 0.5, 10 at 2.0, 7 at 0.1 (begun); evaluations: 100 and 200 at 0.5, none at 2.0.
        IReadOnlyList<(long, double, double)> episodes = [(10, 1.0, 0.5), (20, 3.0, 0.5), (30, 10.0, 2.0), (40, 7.0, 0.1)];
        IReadOnlyList<(long, double, double)> evals = [(0, 100.0, 0.5), (15, 200.0, 0.5), (35, 50.0, 0.1)];
        var running = PlotStatistics.CompletedPeriods(episodes, evals, reachedBudget: false);
        Assert.Equal([(0, 0.5, 2.0), (1, 2.0, 10.0)], running.Select(p => (p.Training.Index, p.Training.Friction, p.Training.MeanReturn)));
        Assert.Equal(150.0, running[0].EvalMean);
        Assert.True(double.IsNaN(running[1].EvalMean));
        // At its budget the last period counts too, with its evaluation.
        var done = PlotStatistics.CompletedPeriods(episodes, evals, reachedBudget: true);
        Assert.Equal(3, done.Count);
        Assert.Equal((0.1, 7.0, 50.0), (done[2].Training.Friction, done[2].Training.MeanReturn, done[2].EvalMean));
        Assert.Empty(PlotStatistics.CompletedPeriods([], [], reachedBudget: false));
    }

    /// <summary>A sweep directory with one hand-made std run: config.json, episodes.csv, updates.csv (the last row cut, as by a kill).</summary>
    private string HandMadeSweep()
    {
        string run = Path.Combine(_root, "sweep", "std", "seed-3");
        Directory.CreateDirectory(run);
        var config = new TrainConfig(EnvSettings.Nature2024(64) with { Friction = FrictionConfig.Nature2024 with { ChangeEverySteps = 200_000 } },
            PpoSettings.For(PpoMethod.Standard), new RunSettings(3, 1_000_000, "cpu", 1, 2, 100));
        File.WriteAllText(Path.Combine(run, RunDirectory.ConfigFile), config.ToJson());
        File.WriteAllText(Path.Combine(run, RunDirectory.EpisodesFile),
            "step,env,return,length,friction\n50000,0,10,1000,0.5\n100000,1,20,1000,0.5\n150000,0,40,1000,0.5\n210000,1,-5,800,0.5\n250000,0,5,1000,1.5\n");
        File.WriteAllText(Path.Combine(run, RunDirectory.UpdatesFile),
            "update,step,abs_w_policy_l1,abs_w_value_l1\n1,131072,0.1,0.2\n2,262144,0.12,0.25\n3,3932");
        return Path.Combine(_root, "sweep");
    }

    [Fact]
    public void AHandMadeRunDirectoryGivesTheExpectedCsvsAndPngs()
    {
        string sweep = HandMadeSweep();
        string figures = Path.Combine(_root, "figures");
        var outcome = Invoke("plot", sweep, "--out", figures, "--bin", "100k");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal($"warning: std seed 3 ({Path.Combine(sweep, "std", "seed-3")}) is unfinished: step 262,144 of 1,000,000; plotted with what it has", outcome.Error.Trim());
        Assert.Equal(
            ["line,bin_start,bin_end,runs,mean_return,ci_low,ci_high",
             "std,0,100000,1,15,15,15", "std,100000,200000,1,40,40,40", "std,200000,300000,1,0,0,0"],
            File.ReadAllLines(Path.Combine(figures, "returns.csv")));
        Assert.Equal(
            ["line,seed,period,friction,episodes,mean_return,source", "std,3,0,0.5,4,16.25,episodes", "std,3,1,1.5,1,5,episodes"],
            File.ReadAllLines(Path.Combine(figures, "friction.csv")));
        // Per run and bin: the last bin holds a -5 at 0.5 and a 5 after the change to 1.5.
        Assert.Equal(
            ["line,seed,bin_start,bin_end,episodes,mean_return,friction,friction_changed",
             "std,3,0,100000,2,15,0.5,0", "std,3,100000,200000,1,40,0.5,0", "std,3,200000,300000,2,0,1.5,1"],
            File.ReadAllLines(Path.Combine(figures, "runs.csv")));
        // Per friction period over seeds: the run (unfinished) has finished period 0 (10, 20, 40, -5) and begun period 1.
        Assert.Equal(["line,period,runs,mean_return,eval_runs,eval_mean_return", "std,0,1,16.25,0,"],
            File.ReadAllLines(Path.Combine(figures, "periods.csv")));
        // Per run, the period under way too: period 1 at 1.5 has one episode (5) so far.
        Assert.Equal(["line,seed,period,friction,episodes,mean_return,eval_mean_return,complete", "std,3,0,0.5,4,16.25,,1", "std,3,1,1.5,1,5,,0"],
            File.ReadAllLines(Path.Combine(figures, "periods_by_seed.csv")));
        // Per-layer columns binned like the returns, each bin at its middle: the update at 131,072 in (100k, 200k], the
        // one at 262,144 in (200k, 300k] (the run reached 262,144: over half of that bin); (0, 100k] has no update.
        Assert.Equal(
            ["line,layer,step,runs,mean", "std,policy_l1,150000,1,0.1", "std,policy_l1,250000,1,0.12", "std,value_l1,150000,1,0.2", "std,value_l1,250000,1,0.25"],
            File.ReadAllLines(Path.Combine(figures, "weights.csv")));
        foreach (string png in new[] { "returns.png", "weights.png", "friction.png" })
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(figures, png));
            Assert.True(bytes.Length > 1000);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
        string replacing = string.Join(", ", CbpGpu.Agent.Methods.MethodRegistry.All.Where(m => m.ReplacesUnits).Select(m => m.Word));
        Assert.StartsWith("cbp, cbpi, redo", replacing);
        Assert.Contains($"note: no runs of a method that replaces units ({replacing}), so no unit-age figure", outcome.Output);
        Assert.Contains("no run has an eval.csv, so no evaluation figure", outcome.Output);
        Assert.False(File.Exists(Path.Combine(figures, "eval_returns.csv")));
        Assert.Contains("no run has an activity.csv, so no dormant-share or stable-rank figure", outcome.Output);
    }

    /// <summary>Two std seeds with eval.csv (seed 1's last row cut, as by a kill) and the episodes their training ended.</summary>
    private string HandMadeSweepWithEvaluations()
    {
        var config = new TrainConfig(EnvSettings.Nature2024(64), PpoSettings.For(PpoMethod.Standard), new RunSettings(0, 200_000, "cpu", 1, 2, 100))
        {
            Eval = new EvalSettings(100_000, 5),
        };
        string[] evals =
        [
            "step,update,friction,episodes,return_mean,return_std,return_min,return_max,length_mean,elapsed_seconds,eval_seconds\n" +
            "0,0,0.5,5,10,1,9,11,1000,0,1\n100352,49,0.5,5,20,1,19,21,1000,30,1\n200704,98,1.5,5,30,1,29,31,1000,60,1\n",
            "step,update,friction,episodes,return_mean,return_std,return_min,return_max,length_mean,elapsed_seconds,eval_seconds\n" +
            "0,0,0.5,5,14,1,13,15,1000,0,1\n100352,49,0.5,5,40,1,39,41,1000,30,1\n200704,98,1.5",
        ];
        for (int seed = 0; seed < 2; seed++)
        {
            string run = Path.Combine(_root, "evals", "std", $"seed-{seed}");
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, RunDirectory.ConfigFile), (config with { Run = config.Run with { Seed = (ulong)seed } }).ToJson());
            File.WriteAllText(Path.Combine(run, RunDirectory.EpisodesFile), "step,env,return,length,friction\n50000,0,-100,1000,0.5\n150000,1,-200,1000,1.5\n");
            File.WriteAllText(Path.Combine(run, RunDirectory.UpdatesFile), "update,step,abs_w_policy_l1\n98,200704,0.1\n");
            File.WriteAllText(Path.Combine(run, RunDirectory.EvalFile), evals[seed]);
        }
        return Path.Combine(_root, "evals");
    }

    [Fact]
    public void EvaluationsGiveTheEvalCurveOverSeedsAndTheReturnAgainstFriction()
    {
        string figures = Path.Combine(_root, "figures");
        var outcome = Invoke("plot", HandMadeSweepWithEvaluations(), "--out", figures);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        string[] curve = File.ReadAllLines(Path.Combine(figures, "eval_returns.csv"));
        Assert.Equal("line,step,runs,mean_return,ci_low,ci_high", curve[0]);
        Assert.Equal(4, curve.Length);
        // Both seeds at steps 0 and 100,352: the mean of their means, a band inside their range; one seed at 200,704.
        foreach (var (line, step, mean, low, high) in new[] { (curve[1], "0", 12.0, 10.0, 14.0), (curve[2], "100352", 30.0, 20.0, 40.0) })
        {
            var f = line.Split(',');
            Assert.Equal(["std", step, "2"], f[..3]);
            Assert.Equal(mean, double.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture));
            Assert.InRange(double.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture), low, mean);
            Assert.InRange(double.Parse(f[5], System.Globalization.CultureInfo.InvariantCulture), mean, high);
        }
        Assert.Equal("std,200704,1,30,30,30", curve[3]);
        // Return against friction from the evaluations, not from the (negative) training episodes.
        Assert.Equal(
            ["line,seed,period,friction,episodes,mean_return,source",
             "std,0,0,0.5,2,15,eval", "std,0,1,1.5,1,30,eval", "std,1,0,0.5,2,27,eval"],
            File.ReadAllLines(Path.Combine(figures, "friction.csv")));
        // Both runs reached their budget, so both periods are over: training -100 and -200 in each seed; evaluations at
        // 0.5: seed 0's 15 and seed 1's 27 (mean 21), at 1.5 only seed 0's 30 (seed 1's row was cut).
        Assert.Equal(["line,period,runs,mean_return,eval_runs,eval_mean_return", "std,0,2,-100,2,21", "std,1,2,-200,1,30"],
            File.ReadAllLines(Path.Combine(figures, "periods.csv")));
        // What those means average, per seed: seed 1 has no evaluation at 1.5.
        Assert.Equal(
            ["line,seed,period,friction,episodes,mean_return,eval_mean_return,complete",
             "std,0,0,0.5,1,-100,15,1", "std,0,1,1.5,1,-200,30,1", "std,1,0,0.5,1,-100,27,1", "std,1,1,1.5,1,-200,,1"],
            File.ReadAllLines(Path.Combine(figures, "periods_by_seed.csv")));
        byte[] png = File.ReadAllBytes(Path.Combine(figures, "eval_returns.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    [Fact]
    public void ActivityCsvGivesTheDormantShareAndStableRankCurvesOverSeeds()
    {
        // Two std seeds, trained to 20,480 steps; seed 1's last row cut, as by a kill. Bins of 10,000 steps: the stable
        // rank (every 10,000 steps; NaN between) has one row per bin, the dormant share two.
        var config = new TrainConfig(EnvSettings.Nature2024(1), PpoSettings.For(PpoMethod.Standard), new RunSettings(0, 20_480, "cpu", 1, 2, 100));
        string[] activity =
        [
            "step,dormant_share,stable_rank,stable_rank_percent\n5000,0.1,NaN,NaN\n10000,0.3,128,50\n15000,0.5,NaN,NaN\n20000,0.7,102.4,40\n",
            "step,dormant_share,stable_rank,stable_rank_percent\n5000,0.2,NaN,NaN\n10000,0.2,153.6,60\n15000,0.4,NaN,NaN\n20000,0.4,153.6,60\n25000,0.9",
        ];
        for (int seed = 0; seed < 2; seed++)
        {
            string run = Path.Combine(_root, "activity", "std", $"seed-{seed}");
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, RunDirectory.ConfigFile), (config with { Run = config.Run with { Seed = (ulong)seed } }).ToJson());
            File.WriteAllText(Path.Combine(run, RunDirectory.EpisodesFile), "step,env,return,length,friction\n5000,0,10,1000,0.5\n");
            File.WriteAllText(Path.Combine(run, RunDirectory.UpdatesFile), "update,step,abs_w_policy_l1\n10,20480,0.1\n");
            File.WriteAllText(Path.Combine(run, RunDirectory.ActivityFile), activity[seed]);
        }
        string figures = Path.Combine(_root, "figures");
        var outcome = Invoke("plot", Path.Combine(_root, "activity"), "--out", figures, "--bin", "10000");
        Assert.True(outcome.ExitCode == 0, outcome.Error);

        static (string[] Fields, double Mean, double Low, double High) Row(string line)
        {
            var f = line.Split(',');
            var n = f[4..].Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return (f[..4], n[0], n[1], n[2]);
        }
        string[] dormant = File.ReadAllLines(Path.Combine(figures, "dormant_share.csv"));
        Assert.Equal("line,bin_start,bin_end,runs,mean,ci_low,ci_high", dormant[0]);
        Assert.Equal(3, dormant.Length);   // bin (20000, 30000] is barely begun (the runs ended at 20,480)
        Assert.Equal("std,0,10000,2,0.2,0.2,0.2", dormant[1]);
        var second = Row(dormant[2]);
        Assert.Equal(["std", "10000", "20000", "2"], second.Fields);
        Assert.Equal(0.5, second.Mean);
        Assert.InRange(second.Low, 0.4, 0.5);
        Assert.InRange(second.High, 0.5, 0.6);

        string[] rank = File.ReadAllLines(Path.Combine(figures, "stable_rank.csv"));
        Assert.Equal(3, rank.Length);
        Assert.Equal(["std", "0", "10000", "2"], Row(rank[1]).Fields);
        Assert.Equal(55.0, Row(rank[1]).Mean);
        Assert.Equal(["std", "10000", "20000", "2"], Row(rank[2]).Fields);
        Assert.Equal(50.0, Row(rank[2]).Mean);
        foreach (string png in new[] { "dormant_share.png", "stable_rank.png" })
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(figures, png))[..4]);
    }

    [Fact]
    public void ADirectoryWithoutRunsIsOneErrorLineNamingWhatWasExpected()
    {
        Directory.CreateDirectory(_root);
        var outcome = Invoke("plot", _root);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal(
            $"error: {_root} holds no runs: expected {Path.Combine(_root, "config.json")} (a `train` --out) or {Path.Combine(_root, "<method>", "seed-<n>", "config.json")} " +
            $"or {Path.Combine(_root, "<method>", "<configuration>", "seed-<n>", "config.json")} (a `sweep` --out)", outcome.ErrorLine);
    }

    /// <summary>A finished hand-made run of 131,072 steps with one episode (its return given) and one update row; CBP runs with every age column.</summary>
    private static void HandMadeRun(string dir, PpoMethod method, ulong seed, double episodeReturn, int envThreads = 2,
        double replacementRate = 1e-4, int maturity = 10_000, double gaeLambda = 0.95)
    {
        Directory.CreateDirectory(dir);
        var ppo = PpoSettings.For(method);
        var config = new TrainConfig(EnvSettings.Constant(64, 1.0), ppo with { GaeLambda = gaeLambda },
            new RunSettings(seed, 131_072, "cpu", 1, envThreads, 100),
            method == PpoMethod.Cbp ? CbpSettings.Nature2024 with { ReplacementRate = replacementRate, MaturityThreshold = maturity } : null);
        File.WriteAllText(Path.Combine(dir, RunDirectory.ConfigFile), config.ToJson());
        File.WriteAllText(Path.Combine(dir, RunDirectory.EpisodesFile),
            $"step,env,return,length,friction\n50000,0,{episodeReturn.ToString(System.Globalization.CultureInfo.InvariantCulture)},1000,1\n");
        string[] ages = [.. UnitAgeHistogram.BinNames.Select(b => $"age_{b}_policy_h1")];
        File.WriteAllText(Path.Combine(dir, RunDirectory.UpdatesFile), method == PpoMethod.Cbp
            ? $"update,step,{string.Join(',', ages)}\n1,131072,{seed + 1},0,0,0,0\n"
            : "update,step,abs_w_policy_l1\n1,131072,0.5\n");
    }

    /// <summary>Issue 25: one configuration and seed twice is counted once, with a warning naming both directories.</summary>
    [Fact]
    public void TwoRunsOfOneConfigurationWithOneSeedAreCountedOnceWithAWarning()
    {
        string a = Path.Combine(_root, "a", "std", "seed-0"), b = Path.Combine(_root, "b", "std", "seed-0");
        HandMadeRun(a, PpoMethod.Standard, 0, 10);
        HandMadeRun(b, PpoMethod.Standard, 0, 30);
        string figures = Path.Combine(_root, "figures");
        var outcome = Invoke("plot", Path.Combine(_root, "a"), Path.Combine(_root, "b"), "--out", figures);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal($"warning: {a} and {b} are both std seed 0; counted once, from {a} (give each run its own --seed)", outcome.Error.Trim());
        Assert.Equal(["line,bin_start,bin_end,runs,mean_return,ci_low,ci_high", "std,0,100000,1,10,10,10"], File.ReadAllLines(Path.Combine(figures, "returns.csv")));
        Assert.Contains("plot: 1 runs (std x 1)", outcome.Output);
    }

    /// <summary>Issue 25: runs shorter than one bin leave returns.png without a line, and plot says so with a --bin that covers them.</summary>
    [Fact]
    public void RunsShorterThanOneBinGetANoteSuggestingASmallerBin()
    {
        string run = Path.Combine(_root, "short");
        HandMadeRun(run, PpoMethod.Standard, 0, 10);
        string figures = Path.Combine(_root, "figures");
        var outcome = Invoke("plot", run, "--out", figures, "--bin", "1M");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Contains("note: no return bin of 1,000,000 steps is covered yet (the runs reach step 131,072), so returns.png has no line; give a smaller --bin, like --bin 32768",
            outcome.Output.Split('\n').Select(l => l.TrimEnd('\r')));
        Assert.Equal(["line,bin_start,bin_end,runs,mean_return,ci_low,ci_high"], File.ReadAllLines(Path.Combine(figures, "returns.csv")));
        // The per-layer columns are binned the same way: no figure, and a note saying why.
        Assert.Contains("note: no bin of 1,000,000 steps is covered yet (the runs reach step 131,072), so no weights.png; give a smaller --bin, like --bin 32768",
            outcome.Output.Split('\n').Select(l => l.TrimEnd('\r')));
        Assert.False(File.Exists(Path.Combine(figures, "weights.png")));
    }

    /// <summary>
    /// Issue 25: a run sessions.csv says finished is not unfinished when updates.csv's last row was cut; a line of
    /// episodes.csv that is not a row is a warning naming file and line.
    /// </summary>
    [Fact]
    public void AFinishedRunWithACutLastRowIsFinishedAndABadEpisodeRowIsNamed()
    {
        string run = Path.Combine(_root, "finished");
        HandMadeRun(run, PpoMethod.Standard, 0, 10);
        File.WriteAllText(Path.Combine(run, RunDirectory.UpdatesFile), "update,step,abs_w_policy_l1\n1,65536,0.5\n2,1310");
        string episodes = Path.Combine(run, RunDirectory.EpisodesFile);
        File.WriteAllText(episodes, "step,env,return,length,friction\n50000,0,10,1000,1\ngarbage\n60000,0,x,1000,1\n70000,0,20,1000,1\n");
        string figures = Path.Combine(_root, "figures");
        // Without a record of its end, the cut run is unfinished at its last complete row.
        var before = Invoke("plot", run, "--out", figures);
        Assert.Contains($"warning: std seed 0 ({run}) is unfinished: step 65,536 of 131,072; plotted with what it has", before.Error);

        File.WriteAllText(Path.Combine(run, RunDirectory.SessionsFile),
            "time_utc,event,step,total_steps,detail\n2026-01-01T00:00:00Z,created,0,131072,\n2026-01-01T00:01:00Z,finished,131072,131072,\n");
        var outcome = Invoke("plot", run, "--out", figures);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(
            [$"warning: {episodes} line 3 is not a row of 5 numbers (1 field); skipped",
             $"warning: {episodes} line 4 is not a row of 5 numbers (a field is not a number); skipped"],
            outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
        Assert.Equal(["line,bin_start,bin_end,runs,mean_return,ci_low,ci_high", "std,0,100000,1,15,15,15"], File.ReadAllLines(Path.Combine(figures, "returns.csv")));
    }

    [Fact]
    public void EachConfigurationIsOneLineLabelledByWhatDiffersReadFromConfigJson()
    {
        // A grid sweep (std in the plain layout; cbp by configuration, one directory not named after its settings), and a
        // `train` directory elsewhere whose config.json is one of the sweep's configurations with another seed.
        string sweep = Path.Combine(_root, "grid"), single = Path.Combine(_root, "single");
        HandMadeRun(Path.Combine(sweep, "std", "seed-0"), PpoMethod.Standard, 0, 10);
        HandMadeRun(Path.Combine(sweep, "std", "seed-1"), PpoMethod.Standard, 1, 20, envThreads: 1);   // thread count: still the same configuration
        HandMadeRun(Path.Combine(sweep, "cbp", "maturity=500,replacement-rate=1e-3", "seed-0"), PpoMethod.Cbp, 0, 30, replacementRate: 0.001, maturity: 500);
        HandMadeRun(Path.Combine(sweep, "cbp", "maturity=500,replacement-rate=1e-3", "seed-1"), PpoMethod.Cbp, 1, 40, replacementRate: 0.001, maturity: 500);
        HandMadeRun(Path.Combine(sweep, "cbp", "maturity=500,replacement-rate=1e-4", "seed-0"), PpoMethod.Cbp, 0, 60, maturity: 500);
        HandMadeRun(Path.Combine(sweep, "cbp", "renamed", "seed-0"), PpoMethod.Cbp, 0, 70, maturity: 5000);
        HandMadeRun(single, PpoMethod.Cbp, 2, 50, replacementRate: 1e-3, maturity: 500);
        string figures = Path.Combine(_root, "figures");
        // Bins of 65,536 steps: the episode at 50,000 in the first, the update at 131,072 in the second.
        var outcome = Invoke("plot", sweep, single, "--out", figures, "--bin", "65536");
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        const string a = "cbp maturity=500 replacement-rate=1e-4", b = "cbp maturity=500 replacement-rate=1e-3", c = "cbp maturity=5000 replacement-rate=1e-4";
        Assert.Contains($"plot: 7 runs (std x 2, {a} x 1, {b} x 3, {c} x 1)", outcome.Output);
        // Per line: the mean over its runs of each run's bin mean; lines in order of method, then maturity, then rate.
        Assert.Equal(
            ["std,0,65536,2,15", $"{a},0,65536,1,60", $"{b},0,65536,3,40", $"{c},0,65536,1,70"],
            File.ReadAllLines(Path.Combine(figures, "returns.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..5])));
        // Unit ages per configuration: (seed + 1) units under 1k optimizer steps, averaged over its runs.
        Assert.Equal(
            [$"{a},policy_h1,lt1k,98304,1,1", $"{b},policy_h1,lt1k,98304,3,2", $"{c},policy_h1,lt1k,98304,1,1"],
            File.ReadAllLines(Path.Combine(figures, "unit_ages.csv")).Where(l => l.Contains(",lt1k,", StringComparison.Ordinal)));
        Assert.Equal(["std", a, b, c], File.ReadAllLines(Path.Combine(figures, "friction.csv")).Skip(1).Select(l => l.Split(',')[0]).Distinct());
    }

    [Fact]
    public void ConfigurationsNoFlagTellsApartAreNumbered()
    {
        string sweep = Path.Combine(_root, "lambda");
        HandMadeRun(Path.Combine(sweep, "std", "seed-0"), PpoMethod.Standard, 0, 10);
        HandMadeRun(Path.Combine(sweep, "std", "a", "seed-0"), PpoMethod.Standard, 0, 30, gaeLambda: 0.9);
        var outcome = Invoke("plot", sweep, "--out", Path.Combine(_root, "figures"));
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(
            ["std #1,0,100000,1,30", "std #2,0,100000,1,10"],
            File.ReadAllLines(Path.Combine(_root, "figures", "returns.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..5])));
    }

    /// <summary>
    /// Issue 25: a grid of four CBP configurations and std, each with evaluations and episodes whose highest returns lie
    /// in the upper left (where a legend used to sit) and long titles; every figure keeps each plotted point inside its
    /// axes and out of the legend, and every title, axis label and legend entry inside the image, measured with
    /// ScottPlot's own text measurement on the figures as written.
    /// </summary>
    [Fact]
    public void NoFigureHidesAPointUnderItsLegendOrOutsideItsAxesAndEveryTextFits()
    {
        string sweep = Path.Combine(_root, "layout");
        int n = 0;
        foreach (var (maturity, rate) in new[] { (500, 1e-4), (500, 1e-3), (10_000, 1e-4), (10_000, 1e-3) })
            for (ulong seed = 0; seed < 2; seed++)
                LayoutRun(Path.Combine(sweep, "cbp", $"m{maturity}r{rate}", $"seed-{seed}"), PpoMethod.Cbp, seed, 1000 * ++n, maturity, rate);
        LayoutRun(Path.Combine(sweep, "std", "seed-0"), PpoMethod.Standard, 0, 9000, 10_000, 1e-4);
        var runs = PlotRun.Find([sweep]);
        string figures = Path.Combine(_root, "figures");
        Directory.CreateDirectory(figures);
        var plot = new PlotFigures(runs, figures, TextWriter.Null);
        plot.Returns(16_384, 100, 0);
        plot.EvalReturns(100, 0);
        foreach (var (prefix, file, _, _) in PlotCanvas.PerLayerFigures) plot.PerLayer(prefix, file, 16_384);
        plot.UnitAges(16_384);
        plot.ReturnAgainstFriction();
        Assert.Equal(["eval_returns", "friction", "returns", "unit_ages", "weights"], plot.Written.Keys.Order());
        foreach (var (name, figure) in plot.Written)
        {
            AssertLaidOut(name, figure);
            // What was checked is what was written: the PNG has the figure's size.
            using var png = SkiaSharp.SKBitmap.Decode(Path.Combine(figures, name + ".png"));
            Assert.Equal((figure.Width, figure.Height), (png.Width, png.Height));
        }
        // The figures with a line per configuration have a legend with one entry for each, beside the panels.
        foreach (string name in new[] { "returns", "eval_returns", "weights" })
            Assert.Equal(5, plot.Written[name].Legend!.Legend.GetItems().Length);
        Assert.Null(plot.Written["friction"].Legend);
    }

    /// <summary>A finished run of 65,536 steps: 16 episodes (returns rising from <paramref name="top"/>/4 to <paramref name="top"/>, the highest first), friction changes, evaluations, weights and unit ages.</summary>
    private static void LayoutRun(string dir, PpoMethod method, ulong seed, double top, int maturity, double rate)
    {
        Directory.CreateDirectory(dir);
        var config = new TrainConfig(EnvSettings.Nature2024(64) with { Friction = FrictionConfig.Nature2024 with { ChangeEverySteps = 16_384 } },
            PpoSettings.For(method), new RunSettings(seed, 65_536, "cpu", 1, 2, 100),
            method == PpoMethod.Cbp ? CbpSettings.Nature2024 with { ReplacementRate = rate, MaturityThreshold = maturity } : null)
        {
            Eval = new EvalSettings(16_384, 5),
        };
        File.WriteAllText(Path.Combine(dir, RunDirectory.ConfigFile), config.ToJson());
        string F(double v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        double[] frictions = [0.05, 0.3, 1.2, 1.9];
        File.WriteAllText(Path.Combine(dir, RunDirectory.EpisodesFile), "step,env,return,length,friction\n" + string.Concat(Enumerable.Range(0, 16).Select(i =>
            $"{4096 * (i + 1)},0,{F(i == 0 ? top * 1.5 : top * (1 + 3 * i / 15.0) / 4 + seed)},1000,{F(frictions[i / 4])}\n")));
        File.WriteAllText(Path.Combine(dir, RunDirectory.EvalFile),
            "step,update,friction,episodes,return_mean,return_std,return_min,return_max,length_mean,elapsed_seconds,eval_seconds\n" +
            string.Concat(Enumerable.Range(0, 5).Select(i => $"{16_384 * i},{8 * i},{F(frictions[Math.Min(i, 3)])},5,{F(i == 0 ? top * 2 : top * i / 4 + seed)},1,0,1,1000,0,1\n")));
        string[] ages = [.. UnitAgeHistogram.BinNames.Select(b => $"age_{b}_policy_h1")];
        File.WriteAllText(Path.Combine(dir, RunDirectory.UpdatesFile),
            $"update,step,abs_w_policy_l1,abs_w_value_l1,{string.Join(',', ages)}\n" +
            string.Concat(Enumerable.Range(1, 32).Select(u => $"{u},{2048 * u},{F(u == 1 ? 1 : 0.1 + seed * 0.01)},{F(0.2 + u * 0.001)},{u},{32 - u},0,0,0\n")));
        File.WriteAllText(Path.Combine(dir, RunDirectory.SessionsFile),
            "time_utc,event,step,total_steps,detail\n2026-01-01T00:00:00Z,created,0,65536,\n2026-01-01T00:01:00Z,finished,65536,65536,\n");
    }

    /// <summary>Every point inside its panel's axes, the legend strip beside the panels, every text inside its room.</summary>
    private static void AssertLaidOut(string name, PlotLayout.Figure figure)
    {
        var image = new PixelRect(0, figure.Width, figure.Height, 0);
        var legendStrip = figure.Legend?.RenderManager.LastRender.FigureRect;
        if (figure.Legend is Plot key)
        {
            // The legend box, as last drawn, fits in its strip, which lies inside the image.
            Assert.True(Inside(legendStrip!.Value, image), $"{name}: legend strip outside the image");
            Assert.InRange(key.Legend.LastRenderSize.Width, 1, legendStrip.Value.Width);
            Assert.InRange(key.Legend.LastRenderSize.Height, 1, legendStrip.Value.Height);
        }
        foreach (var panel in figure.Panels)
        {
            var render = panel.RenderManager.LastRender;
            Assert.True(Inside(render.FigureRect, image), $"{name}: a panel outside the image");
            Assert.True(Inside(render.DataRect, render.FigureRect), $"{name}: axes outside their panel");
            if (legendStrip is PixelRect strip)
                Assert.True(strip.Left >= render.FigureRect.Right - 0.5 || strip.Right <= render.FigureRect.Left + 0.5, $"{name}: the legend overlaps a panel");
            var points = panel.GetPlottables().SelectMany<IPlottable, Coordinates>(p => p switch
            {
                ScottPlot.Plottables.Scatter s => s.Data.GetScatterPoints(),
                ScottPlot.Plottables.Marker m => [m.Location],
                _ => [],
            }).ToList();
            foreach (var point in points)
            {
                var px = panel.GetPixel(point);
                Assert.True(render.DataRect.Contains(px.X, px.Y) || OnEdge(render.DataRect, px), $"{name}: point {point} at {px} outside the axes {render.DataRect}");
            }
            // Title and x label within the data area's width (they are centred on it), the y label within its height.
            var data = render.DataRect;
            foreach (var (label, room) in new[] { (panel.Axes.Title.Label, data.Width), (panel.Axes.Bottom.Label, data.Width), (panel.Axes.Left.Label, data.Height) })
                if (!string.IsNullOrEmpty(label.Text))
                    Assert.True(PlotLayout.Measure(label, label.Text) <= room + 0.5,
                        $"{name}: \"{label.Text}\" is {PlotLayout.Measure(label, label.Text)} px, room {room}");
        }
    }

    private static bool Inside(PixelRect inner, PixelRect outer) =>
        inner.Left >= outer.Left - 0.5 && inner.Right <= outer.Right + 0.5 && inner.Top >= outer.Top - 0.5 && inner.Bottom <= outer.Bottom + 0.5;

    private static bool OnEdge(PixelRect rect, Pixel px) =>
        px.X >= rect.Left - 0.5 && px.X <= rect.Right + 0.5 && px.Y >= rect.Top - 0.5 && px.Y <= rect.Bottom + 0.5;

    /// <summary>
    /// `plot --from-csv`: the figures of a grid sweep with evaluations and activity drawn again from the CSVs plot wrote
    /// give the same CSVs, byte for byte, and the same PNGs (the rows go through the same drawing).
    /// </summary>
    [Fact]
    public void FiguresDrawnAgainFromTheirCsvsGiveTheSameCsvsAndPngs()
    {
        string sweep = Path.Combine(_root, "layout");
        int n = 0;
        foreach (var (maturity, rate) in new[] { (500, 1e-4), (10_000, 1e-3) })
            for (ulong seed = 0; seed < 2; seed++)
                LayoutRun(Path.Combine(sweep, "cbp", $"m{maturity}r{rate}", $"seed-{seed}"), PpoMethod.Cbp, seed, 1000 * ++n, maturity, rate);
        LayoutRun(Path.Combine(sweep, "std", "seed-0"), PpoMethod.Standard, 0, 9000, 10_000, 1e-4);
        File.WriteAllText(Path.Combine(sweep, "std", "seed-0", RunDirectory.ActivityFile),
            "step,dormant_share,stable_rank,stable_rank_percent\n10000,0.1,NaN,NaN\n20000,0.3,128,50\n40000,0.25,100,39.0625\n");
        string a = Path.Combine(_root, "a"), b = Path.Combine(_root, "b");
        var first = Invoke("plot", sweep, "--out", a, "--bin", "16384", "--resamples", "50");
        Assert.True(first.ExitCode == 0, first.Error);
        var again = Invoke("plot", "--from-csv", a, "--out", b);
        Assert.True(again.ExitCode == 0, again.Error);
        // The runs log no dormant_ or eff_rank_ columns: plot wrote no such figure, and --from-csv notes their CSVs missing.
        Assert.Equal([$"note: {Path.Combine(a, "dormant.csv")} is missing, so no dormant.png", $"note: {Path.Combine(a, "effective-rank.csv")} is missing, so no effective-rank.png"],
            again.Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("note:")));
        string[] names = [.. Directory.GetFiles(a).Select(f => Path.GetFileName(f)).Order()];
        Assert.Equal(["dormant_share", "eval_returns", "figures", "friction", "periods", "periods_by_seed", "returns", "runs", "stable_rank", "unit_ages", "weights"],
            names.Select(Path.GetFileNameWithoutExtension).Distinct().Order());
        Assert.Equal(names, Directory.GetFiles(b).Select(Path.GetFileName).Order());
        foreach (string name in names)
            Assert.True(File.ReadAllBytes(Path.Combine(a, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, name))), $"{name} differs");
        // In place: the same files again.
        var inPlace = Invoke("plot", "--from-csv", b, "--out", b);
        Assert.True(inPlace.ExitCode == 0, inPlace.Error);
        foreach (string name in names)
            Assert.True(File.ReadAllBytes(Path.Combine(a, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, name))), $"{name} differs in place");
    }

    /// <summary>`plot --from-csv`: a missing or malformed CSV skips its figure with one note; a directory with none is one error line; DIR and --from-csv together are a usage error.</summary>
    [Fact]
    public void FromCsvSkipsAFigureWhoseCsvIsMissingOrMalformedAndRefusesADirectoryWithNone()
    {
        string dir = Path.Combine(_root, "csvs"), outDir = Path.Combine(_root, "out");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "returns.csv"), "line,bin_start,bin_end,runs,mean_return,ci_low,ci_high\nstd,0,100,2,1.5,1,2\nstd,100,200,2,3,2.5,3.5\n");
        File.WriteAllText(Path.Combine(dir, "friction.csv"), "line,seed,period,friction,episodes,mean_return,source\nstd,0,0,1,4,x,episodes\n");
        File.WriteAllText(Path.Combine(dir, "weights.csv"), "line,layer,step,runs,mean\nstd,policy_l1,100,2,1.50\n");
        var outcome = Invoke("plot", "--from-csv", dir, "--out", outDir);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        string[] notes = [.. outcome.Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("note:"))];
        Assert.Contains($"note: {Path.Combine(dir, "friction.csv")} line 2 is not a row of line,seed,period,friction,episodes,mean_return,source, so no friction.png", notes);
        Assert.Contains($"note: {Path.Combine(dir, "weights.csv")} line 2 is not written the way plot writes it (std,policy_l1,100,2,1.5), so no weights.png", notes);
        Assert.Contains($"note: {Path.Combine(dir, "eval_returns.csv")} is missing, so no eval_returns.png", notes);
        // One note per figure skipped (all but returns) and one for the missing figures.json.
        Assert.Equal(PlotCanvas.ActivityFigures.Length + PlotCanvas.PerLayerFigures.Length + 3 + 1, notes.Length);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "returns.csv")), File.ReadAllText(Path.Combine(outDir, "returns.csv")));
        Assert.True(File.Exists(Path.Combine(outDir, "returns.png")));
        Assert.False(File.Exists(Path.Combine(outDir, "friction.png")));

        string empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        var none = Invoke("plot", "--from-csv", empty);
        Assert.Equal(1, none.ExitCode);
        Assert.StartsWith($"error: {empty} holds none of the CSVs plot writes (returns.csv, eval_returns.csv, weights.csv, dormant.csv, effective-rank.csv, unit_ages.csv", none.ErrorLine);
        Assert.EndsWith("give --from-csv the --out of an earlier `plot`", none.ErrorLine);

        var both = Invoke("plot", empty, "--from-csv", dir);
        Assert.Equal(2, both.ExitCode);
        Assert.Equal($"error: --from-csv draws from {dir}'s CSVs, not from runs: give DIR or --from-csv, not both", both.ErrorLine);
    }

    /// <summary>Issue 25: friction periods go from blue (the first) to red (the last) through the hues between, none near-black.</summary>
    [Fact]
    public void FrictionPeriodColoursGoFromBlueToRed()
    {
        var colors = Enumerable.Range(0, 5).Select(i => PlotCanvas.PeriodColor(i, 5)).ToList();
        double[] hues = [.. colors.Select(Hue)];
        Assert.InRange(hues[0], 200, 250);   // blue
        Assert.True(hues[^1] <= 20 || hues[^1] >= 345, $"last hue {hues[^1]}");   // red
        for (int i = 1; i < hues.Length; i++) Assert.True(hues[i] < hues[i - 1], $"hues {string.Join(", ", hues)}");
        Assert.All(colors, c => Assert.True(Math.Max(c.R, Math.Max(c.G, c.B)) >= 190, $"{c} is dark"));
        Assert.Equal(PlotCanvas.PeriodColor(0, 1), colors[0]);
    }

    /// <summary>The HSV hue in degrees.</summary>
    private static double Hue(ScottPlot.Color c)
    {
        double r = c.R / 255.0, g = c.G / 255.0, b = c.B / 255.0, max = Math.Max(r, Math.Max(g, b)), d = max - Math.Min(r, Math.Min(g, b));
        double h = d == 0 ? 0 : max == r ? (g - b) / d % 6 : max == g ? (b - r) / d + 2 : (r - g) / d + 4;
        return (60 * h + 360) % 360;
    }

    /// <summary>
    /// Issue 25: lines of different presets differ in every flag a preset sets; each is labelled by its presets and the
    /// flags its presets do not give (here --envs), not by 20 flags.
    /// </summary>
    [Fact]
    public void LinesOfDifferentPresetsAreLabelledByTheirPresetsAndWhatTheyDoNotGive()
    {
        string sweep = Path.Combine(_root, "presets");
        var configs = new (string Dir, string[] Flags)[]
        {
            ("a", ["--preset", "seed2023"]), ("b", ["--preset", "nature2024"]), ("c", ["--preset", "seed2023", "--envs", "8"]),
        };
        foreach (var (dir, flags) in configs)
        {
            string run = Path.Combine(sweep, "std", dir, "seed-0");
            var config = ReadTrain(["--method", "std", "--seed", "0", "--steps", "131072", "--out", run, .. flags]).Config;
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, RunDirectory.ConfigFile), config.ToJson());
            File.WriteAllText(Path.Combine(run, RunDirectory.EpisodesFile), "step,env,return,length,friction\n50000,0,10,1000,1\n");
            File.WriteAllText(Path.Combine(run, RunDirectory.UpdatesFile), "update,step,abs_w_policy_l1\n1,131072,0.5\n");
        }
        var outcome = Invoke("plot", sweep, "--out", Path.Combine(_root, "figures"));
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Equal(
            ["std preset=nature2024", "std preset=seed2023", "std preset=seed2023 envs=8"],
            File.ReadAllLines(Path.Combine(_root, "figures", "returns.csv")).Skip(1).Select(l => l.Split(',')[0]));
    }
}
