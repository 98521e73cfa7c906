using System.Text.Json.Nodes;
using CbpGpu.Agent.Training;
using CbpGpu.Runner.Commands;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;

namespace CbpGpu.Tests.Runner;

/// <summary>
/// `Runner sweep` as a process over real tiny runs (2 methods x 2 seeds x 4 updates of 16 envs): the run files do not
/// depend on K, a SIGKILLed sweep rerun ends with the files of an uninterrupted one, a run killed between checkpoints
/// is shown continuing from its checkpoint, and failing runs are reported while the others finish.
/// </summary>
public sealed class SweepProcessTests : IDisposable
{
    private const int SigKill = 9, SigTerm = 15;
    private static readonly string[] Methods = ["std", "cbp"];
    private static readonly long[] Seeds = [0, 1];
    private readonly string _root = NewRoot("sweep");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    private static string[] Sweep(string dir, int parallel, params string[] extra) =>
    [
        "sweep", "--methods", "std,cbp", "--seeds", "0-1", "--preset", "constant", "--envs", "16", "--steps", "8192",
        "--checkpoint-every", "1", "--checkpoint-minutes", "0", "--maturity", "50", "--replacement-rate", "1e-2",
        "--parallel", parallel.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", dir, .. extra,
    ];

    private static IEnumerable<string> RunDirs(string sweep) =>
        from m in Methods from s in Seeds select Path.Combine(sweep, m, $"seed-{s}");

    /// <summary>config.json without Run.EnvThreads: the sweep gives each run cores / K MuJoCo threads, which never changes results (docs/formats.md#configjson).</summary>
    private static string ConfigWithoutEnvThreads(string dir)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunDirectory.ConfigFile)))!;
        json["Run"]!.AsObject().Remove("EnvThreads");
        return json.ToJsonString();
    }

    private static void AssertSameRuns(string expected, string actual)
    {
        foreach (var (a, b) in RunDirs(expected).Zip(RunDirs(actual)))
        {
            Assert.Equal(Episodes(a), Episodes(b));
            Assert.Equal(UpdatesWithoutTimings(a), UpdatesWithoutTimings(b));
            Assert.Equal(ConfigWithoutEnvThreads(a), ConfigWithoutEnvThreads(b));
            Assert.EndsWith(",finished,8192,8192,", File.ReadAllLines(Path.Combine(b, RunDirectory.SessionsFile))[^1]);
        }
    }

    private static int MaxUpdates(string sweep) => RunDirs(sweep).Max(d =>
    {
        string path = Path.Combine(d, RunDirectory.UpdatesFile);
        if (!File.Exists(path)) return 0;
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(s).ReadToEnd().Count(c => c == '\n') - 1;
    });

    [Fact]
    public void OneAtATimeAndTwoAtATimeWriteTheSameRunsAndARerunSkipsThem()
    {
        string one = Dir("k1"), two = Dir("k2");
        foreach (var (dir, k) in new[] { (one, 1), (two, 2) })
        {
            var (code, stdout, stderr) = RunnerProcess.Run(Sweep(dir, k));
            Assert.True(code == 0, stdout + stderr);
            Assert.Contains("sweep ended after", stdout);
            foreach (var m in Methods)
                foreach (var s in Seeds)
                    Assert.True(File.Exists(Path.Combine(dir, "logs", $"{m}-seed-{s}.log")));
        }
        AssertSameRuns(one, two);
        Assert.Contains("\"EnvThreads\": 2", File.ReadAllText(Path.Combine(one, "std", "seed-0", RunDirectory.ConfigFile)));
        Assert.Contains("\"EnvThreads\": 1", File.ReadAllText(Path.Combine(two, "std", "seed-0", RunDirectory.ConfigFile)));

        var before = RunDirs(two).Select(Snapshot).ToList();
        var (again, output, error) = RunnerProcess.Run(Sweep(two, 2));
        Assert.True(again == 0, output + error);
        Assert.Contains("4 already finished, 0 to run", output);
        foreach (var (snapshot, dir) in before.Zip(RunDirs(two)))
            Assert.Equal(snapshot, Snapshot(dir));
    }

    [Fact]
    public void ASigkilledSweepRerunEndsWithTheFilesOfAnUninterruptedOne()
    {
        string killed = Dir("killed");
        using (var sweep = new RunnerProcess(Sweep(killed, 2)))
        {
            sweep.WaitUntil(() => MaxUpdates(killed) >= 2, TimeSpan.FromMinutes(2), "two updates in a run");
            sweep.Signal(SigKill);
            Assert.Equal(128 + SigKill, sweep.WaitForExit(TimeSpan.FromMinutes(1)));
        }
        // The runs get SIGTERM from the kernel when the sweep dies and checkpoint; the rerun waits for their locks.
        var (code, stdout, stderr) = RunnerProcess.Run(Sweep(killed, 2));
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("continuing from step", stdout);
        foreach (string dir in RunDirs(killed).Where(d => File.ReadAllText(Path.Combine(d, RunDirectory.SessionsFile)).Contains(",resumed,")))
            Assert.Contains(",stopped,", File.ReadAllText(Path.Combine(dir, RunDirectory.SessionsFile)));

        string straight = Dir("straight");
        var (code2, stdout2, stderr2) = RunnerProcess.Run(Sweep(straight, 2));
        Assert.True(code2 == 0, stdout2 + stderr2);
        AssertSameRuns(straight, killed);
    }

    [Fact]
    public void ARunKilledBetweenCheckpointsIsShownContinuingFromItsCheckpointNotFromItsLogs()
    {
        // What a crash or SIGKILL of a run leaves: updates.csv rows past checkpoint.bin, which the resume cuts back.
        // The run stops once (a checkpoint at step S), is resumed with periodic checkpoints off and killed two updates later.
        string sweep = Dir("crashed"), run = Path.Combine(sweep, "std", "seed-0");
        const int batch = 2048;
        string[] Args(string command, string budget, params string[] extra) =>
        [
            command, .. command == "sweep" ? ["--methods", "std", "--seeds", "0"] : new[] { "--method", "std", "--seed", "0" },
            "--preset", "constant", "--envs", "16", "--steps", budget, "--checkpoint-every", "0", "--checkpoint-minutes", "0",
            "--out", command == "sweep" ? sweep : run, .. extra,
        ];
        long Logged() => SweepScheduler.LastStep(run);
        using (var first = new RunnerProcess(Args("train", "1000000000")))
        {
            first.WaitUntil(() => Logged() >= batch, TimeSpan.FromMinutes(5), "the first update");
            first.Signal(SigTerm);
            Assert.Equal(128 + SigTerm, first.WaitForExit(TimeSpan.FromMinutes(2)));
        }
        string[] stopped = File.ReadAllLines(Path.Combine(run, RunDirectory.SessionsFile))[^1].Split(',');
        Assert.Equal("stopped", stopped[1]);
        long checkpointed = long.Parse(stopped[2], System.Globalization.CultureInfo.InvariantCulture);
        using (var second = new RunnerProcess(Args("train", "1000000000", "--resume")))
        {
            second.WaitUntil(() => Logged() >= checkpointed + 2 * batch, TimeSpan.FromMinutes(5), "two updates after the resume");
            second.Signal(SigKill);
            Assert.Equal(128 + SigKill, second.WaitForExit(TimeSpan.FromMinutes(1)));
        }
        long logged = Logged();
        Assert.True(logged >= checkpointed + 2 * batch, $"{logged} logged, checkpoint at {checkpointed}");
        Assert.Equal(checkpointed, SweepScheduler.ResumeStep(run));

        var (code, stdout, stderr) = RunnerProcess.Run(Args("sweep", (logged + batch).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains($"std seed 0: started (continuing from step {checkpointed:N0}), log ", stdout);
        Assert.Contains($",resumed,{checkpointed},", File.ReadAllText(Path.Combine(run, RunDirectory.SessionsFile)));
    }

    [Fact]
    public void AGridSweepRerunWithTheGridSpelledOtherwiseSkipsItsRunsAndPlotDrawsOneLinePerConfiguration()
    {
        string dir = Dir("grid");
        string[] Grid(string grid) =>
        [
            "sweep", "--methods", "std,cbp", "--seeds", "0", "--preset", "constant", "--envs", "16", "--steps", "4096",
            "--replacement-rate", "1e-2", "--parallel", "2", "--out", dir, "--grid", grid,
        ];
        var (code, stdout, stderr) = RunnerProcess.Run(Grid("maturity=50,100"));
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("sweep: 3 runs (std, cbp x 2 configurations; seeds 0 each)", stdout);
        Assert.Contains("grid: maturity=50,100", stdout);
        string[] runs = [Path.Combine(dir, "std", "seed-0"), Path.Combine(dir, "cbp", "maturity=50", "seed-0"), Path.Combine(dir, "cbp", "maturity=100", "seed-0")];
        foreach (string run in runs) Assert.EndsWith(",finished,4096,4096,", File.ReadAllLines(Path.Combine(run, RunDirectory.SessionsFile))[^1]);
        Assert.True(File.Exists(Path.Combine(dir, "logs", "cbp-maturity=100-seed-0.log")));
        Assert.Contains("\"MaturityThreshold\": 100,", File.ReadAllText(Path.Combine(runs[2], RunDirectory.ConfigFile)));

        var before = runs.Select(Snapshot).ToList();
        var (again, output, error) = RunnerProcess.Run(Grid("maturity = 1e2, 5e1"));
        Assert.True(again == 0, output + error);
        Assert.Contains("3 already finished, 0 to run", output);
        foreach (var (snapshot, run) in before.Zip(runs)) Assert.Equal(snapshot, Snapshot(run));

        // Lines in order of maturity (the directories sort the other way), labelled by it, from each run's config.json.
        var plot = RunnerInvocation.Invoke("plot", dir, "--out", Dir("figures"), "--bin", "1024");
        Assert.True(plot.ExitCode == 0, plot.Error);
        Assert.Equal(["std", "cbp maturity=50", "cbp maturity=100"],
            File.ReadAllLines(Path.Combine(Dir("figures"), "weights.csv")).Skip(1).Select(l => l.Split(',')[0]).Distinct());
    }

    [Fact]
    public void FailingRunsAreReportedWhileTheOthersFinish()
    {
        // cbp: refused by its own settings (seed2023 resets Adam state, which TorchSharp's Adam cannot);
        // std seed 1: refused when it starts (its run directory is a file); std seed 0 trains.
        string dir = Dir("failing");
        Directory.CreateDirectory(Path.Combine(dir, "std"));
        File.WriteAllText(Path.Combine(dir, "std", "seed-1"), "not a directory");
        var (code, stdout, stderr) = RunnerProcess.Run(
        [
            "sweep", "--methods", "std,cbp", "--seeds", "0-1", "--preset", "seed2023", "--optimizer-impl", "torch",
            "--envs", "16", "--steps", "4096", "--out", dir,
        ]);
        Assert.Equal(1, code);
        Assert.Equal("error: 3 of 4 runs failed (listed above, each with its log); fix the cause and rerun the same command: finished runs are skipped, the others continue", stderr.Trim());
        string[] failed = [.. stdout.Split('\n').Where(l => l.StartsWith("failed: ", StringComparison.Ordinal))];
        Assert.Equal(3, failed.Length);
        Assert.Contains(failed, l => l.StartsWith("failed: std seed 1 (", StringComparison.Ordinal) && l.Contains("is a file, not a directory"));
        Assert.Contains(failed, l => l.StartsWith("failed: cbp seed 0 (", StringComparison.Ordinal) && l.Contains("error: --optimizer-impl torch cannot reset per-weight Adam state"));
        Assert.Contains(failed, l => l.StartsWith("failed: cbp seed 1 (", StringComparison.Ordinal));
        // seed2023's learner collects 4,096 transitions per update.
        Assert.EndsWith(",finished,4096,4096,", File.ReadAllLines(Path.Combine(dir, "std", "seed-0", RunDirectory.SessionsFile))[^1]);
    }
}
