using CbpGpu.Agent.Training;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;

namespace CbpGpu.Tests.Runner;

/// <summary>
/// `Runner train` as a process, stopped the ways schedulers and users stop it (SIGTERM, SIGINT, SIGKILL) and run twice
/// on one directory: exit codes, what it prints, and that a resume ends with the files of an uninterrupted run.
/// </summary>
public sealed class TrainProcessTests : IDisposable
{
    private const int SigHup = 1, SigInt = 2, SigKill = 9, SigTerm = 15;
    private readonly string _root = NewRoot("process");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    /// <summary>
    /// A budget no test run reaches (half a million updates): a run that is to be stopped is given it, so that it cannot
    /// finish before its signal however slowly the machine runs it, and is then resumed with a budget it can finish.
    /// </summary>
    private const long Unfinishable = 1_000_000_000;

    private const int Batch = 2048;

    /// <summary>Updates of 16 envs x 128 steps (8 unless <paramref name="steps"/> says); periodic checkpoints off unless asked for.</summary>
    private static string[] Train(string dir, int checkpointEvery = 0, bool resume = false, long steps = 8 * Batch) =>
    [
        "train", "--method", "std", "--preset", "constant", "--envs", "16", "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", "11",
        "--checkpoint-every", checkpointEvery.ToString(System.Globalization.CultureInfo.InvariantCulture), "--checkpoint-minutes", "0",
        "--out", dir, .. resume ? new[] { "--resume" } : [],
    ];

    private static int Updates(string dir)
    {
        string path = Path.Combine(dir, RunDirectory.UpdatesFile);
        if (!File.Exists(path)) return 0;
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(s);
        return r.ReadToEnd().Count(c => c == '\n') - 1;
    }

    /// <summary>A budget past the updates a stopped run logged (so its resume is allowed) and at least the usual 8.</summary>
    private static long FinishableAfter(int updatesLogged) => Math.Max(8, updatesLogged + 1) * (long)Batch;

    /// <summary>Resumes the stopped run in <paramref name="dir"/> to <paramref name="steps"/>, and checks it ends with the files of a run never stopped.</summary>
    private void ResumeAndCompareWithAnUninterruptedRun(string dir, long steps, int checkpointEvery = 0)
    {
        var (code, stdout, stderr) = RunnerProcess.Run(Train(dir, checkpointEvery, resume: true, steps: steps));
        Assert.True(code == 0, stderr);
        Assert.Contains("resumed at step", stdout);
        string straight = Dir("uninterrupted");
        var (code2, _, stderr2) = RunnerProcess.Run(Train(straight, steps: steps));
        Assert.True(code2 == 0, stderr2);
        Assert.Equal(Episodes(straight), Episodes(dir));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(dir));
    }

    [Theory]
    [InlineData(SigTerm)]
    [InlineData(SigInt)]
    [InlineData(SigHup)]
    public void ASignalBeforeTheFirstPeriodicCheckpointCheckpointsExitsWith128PlusNAndResumesExactly(int signal)
    {
        string dir = Dir("signalled");
        int signalledAfter;
        // Two logged updates: the stop handlers (installed before the run starts) are in place, and the run cannot end by itself.
        using (var run = new RunnerProcess(Train(dir, steps: Unfinishable), hangupAsInATerminal: true))
        {
            run.WaitUntil(() => Updates(dir) >= 2, TimeSpan.FromMinutes(5), "two updates");
            signalledAfter = Updates(dir);
            run.Signal(signal);
            Assert.Equal(128 + signal, run.WaitForExit(TimeSpan.FromMinutes(2)));
            string name = signal switch { SigTerm => "SIGTERM", SigInt => "SIGINT", _ => "SIGHUP" };
            Assert.Equal($"stopping on {name}: finishing the current update, then writing the checkpoint (send it again to kill)", run.Stderr.Trim());
            string[] stdout = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(stdout, l => l.StartsWith("stopped at step ", StringComparison.Ordinal));
            Assert.Equal($"to continue: Runner {string.Join(' ', Train(dir, steps: Unfinishable))} --resume", stdout[^1]);
        }
        // The update under way when the signal came (and at most one that ended between reading the file and sending
        // it) completes; no further update starts.
        int stoppedAt = Updates(dir);
        Assert.InRange(stoppedAt, signalledAfter, signalledAfter + 2);
        Assert.Contains(",stopped,", File.ReadAllText(Path.Combine(dir, RunDirectory.SessionsFile)));
        ResumeAndCompareWithAnUninterruptedRun(dir, FinishableAfter(stoppedAt));
    }

    [Fact]
    public void SigkillLosesOnlyWhatFollowedTheLastCheckpoint()
    {
        string dir = Dir("killed");
        using (var run = new RunnerProcess(Train(dir, checkpointEvery: 2, steps: Unfinishable)))
        {
            run.WaitUntil(() => Updates(dir) >= 3, TimeSpan.FromMinutes(5), "three updates");
            run.Signal(SigKill);
            Assert.Equal(128 + SigKill, run.WaitForExit(TimeSpan.FromMinutes(1)));
        }
        ResumeAndCompareWithAnUninterruptedRun(dir, FinishableAfter(Updates(dir)), checkpointEvery: 2);
    }

    [Fact]
    public void ASigkilledBulletRunResumesToTheFilesOfAnUninterruptedOne()
    {
        // seed2023 runs on the Bullet Ant; friction 0.8, 0.2 from summed step 2,020 (mid-episode), 0.5 from 4,040.
        string frictions = Path.Combine(_root, "frictions.txt");
        Directory.CreateDirectory(_root);
        // 0.5 from then on, for as many changes as the unfinishable budget below has (the table row is read whole whatever the budget).
        const long unfinishable = 10_000_000;
        File.WriteAllLines(frictions, Enumerable.Repeat("0.8 0.2 " + string.Join(' ', Enumerable.Repeat("0.5", (int)(unfinishable / 2020))), 12));
        string[] Bullet(string dir, bool resume = false, long steps = 5120) =>
        [
            "train", "--method", "std", "--preset", "seed2023", "--envs", "4", "--batch-size", "1024", "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--change-every", "2020", "--frictions", frictions, "--seed", "11", "--checkpoint-every", "1", "--checkpoint-minutes", "0",
            "--out", dir, .. resume ? new[] { "--resume" } : [],
        ];
        string dir = Dir("bullet-killed");
        using (var run = new RunnerProcess(Bullet(dir, steps: unfinishable)))
        {
            run.WaitUntil(() => Updates(dir) >= 2, TimeSpan.FromMinutes(5), "two updates");
            run.Signal(SigKill);
            Assert.Equal(128 + SigKill, run.WaitForExit(TimeSpan.FromMinutes(1)));
        }
        int logged = Updates(dir);
        Assert.True(logged >= 2);
        // At least 5 updates (past 4,040, the second friction change), and past what the killed run logged.
        long steps = Math.Max(5, logged + 1) * 1024L;
        var (code, stdout, stderr) = RunnerProcess.Run(Bullet(dir, resume: true, steps: steps));
        Assert.True(code == 0, stderr);
        Assert.Contains("resumed at step", stdout);
        string straight = Dir("bullet-straight");
        var (code2, _, stderr2) = RunnerProcess.Run(Bullet(straight, steps: steps));
        Assert.True(code2 == 0, stderr2);
        Assert.Contains("\"Engine\": \"Bullet\"", File.ReadAllText(Path.Combine(straight, RunDirectory.ConfigFile)));
        Assert.Equal(Episodes(straight), Episodes(dir));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(dir));
    }

    [Fact]
    public void ASecondProcessOnTheSameDirectoryIsRefusedAndTheFirstRunsOnIntact()
    {
        string dir = Dir("shared");
        // The first cannot finish while the others are tried; it is stopped afterwards and resumed to a budget it finishes.
        using (var first = new RunnerProcess(Train(dir, steps: Unfinishable)))
        {
            first.WaitUntil(() => Updates(dir) >= 1, TimeSpan.FromMinutes(5), "the first update");
            foreach (bool resume in new[] { false, true })
            {
                var (code, stdout, stderr) = RunnerProcess.Run(Train(dir, resume: resume));
                Assert.Equal(1, code);
                string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.Single(lines);
                Assert.Contains($"in use by another Runner process (PID {first.Pid})", lines[0]);
                Assert.DoesNotContain("step", stdout);
            }
            Assert.Contains(",created,", File.ReadAllText(Path.Combine(dir, RunDirectory.SessionsFile)));
            first.Signal(SigTerm);
            Assert.Equal(128 + SigTerm, first.WaitForExit(TimeSpan.FromMinutes(3)));
        }
        ResumeAndCompareWithAnUninterruptedRun(dir, FinishableAfter(Updates(dir)));
    }

    /// <summary>Other CPU kernels compute other bits, so a run continues with the kernels it started with (docs/formats.md#resuming).</summary>
    [Fact]
    public void ResumingWithOtherCpuKernelsIsRefusedByNameAndChangesNothing()
    {
        string dir = Dir("kernels");
        var (code, _, stderr) = RunnerProcess.Run(Train(dir, steps: Batch));
        Assert.True(code == 0, stderr);
        var before = Snapshot(dir);
        var (refused, _, error) = RunnerProcess.Run([.. Train(dir, resume: true, steps: 2 * Batch), "--cpu-kernels", "portable"]);
        Assert.Equal(1, refused);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains("Run.CpuKernels (checkpoint \"Native\", now \"Portable\")", line);
        Assert.Equal(before, Snapshot(dir));
    }

    /// <summary>
    /// --resume without --steps keeps the budget config.json recorded, not the preset's 20M (issue 25): a finished run
    /// has nothing to do and changes nothing.
    /// </summary>
    [Fact]
    public void ResumingAFinishedRunWithoutStepsKeepsItsBudgetAndHasNothingToDo()
    {
        string dir = Dir("budget");
        var (code, _, stderr) = RunnerProcess.Run(Train(dir, steps: Batch));
        Assert.True(code == 0, stderr);
        var before = Snapshot(dir);
        string[] args = Train(dir, resume: true, steps: Batch);
        int at = Array.IndexOf(args, "--steps");
        string[] withoutSteps = [.. args.Where((_, i) => i != at && i != at + 1)];
        var (again, stdout, stderr2) = RunnerProcess.Run(withoutSteps);
        Assert.True(again == 0, stderr2);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("note: --resume without --steps keeps the run's budget of 2,048 steps (config.json); give --steps to change it", lines);
        Assert.Contains($"the run in {dir} already finished at step 2,048; nothing to do", lines);
        Assert.DoesNotContain("training 20,", stdout);
        Assert.Equal(before, Snapshot(dir));
    }

    [Fact]
    public void BadOutDirectoriesAreOneErrorLineWithExitCode1()
    {
        string file = Dir("file");
        Directory.CreateDirectory(_root);
        File.WriteAllText(file, "x");
        foreach (var args in new[] { Train(file), Train(Path.Combine(file, "sub")), Train(Dir("absent"), resume: true) })
        {
            var (code, _, stderr) = RunnerProcess.Run(args);
            Assert.Equal(1, code);
            string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith("error: ", lines[0]);
        }
    }

    [Theory]
    [InlineData("/nonexistent/libmujoco.so.2.2.2", "apt-get install libmujoco2.2.2")]
    [InlineData("libz.so.1", "is not MuJoCo")]
    public void AMissingOrWrongMuJoCoLibraryIsOneLineNamingTheFix(string library, string expected)
    {
        string actions = Path.Combine(AppContext.BaseDirectory, "Data", "Physics", "replay_actions.csv");
        var env = new Dictionary<string, string> { ["CBPGPU_MUJOCO_LIB"] = library };
        foreach (var args in new[] { new[] { "replay", "--friction", "1", "--actions", actions }, Train(Dir("nomujoco")) })
        {
            var (code, stdout, stderr) = RunnerProcess.Run(args, env);
            Assert.Equal(1, code);
            string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith("error: ", lines[0]);
            Assert.Contains(expected, lines[0]);
            Assert.DoesNotContain("   at ", stdout + stderr);
        }
    }
}
