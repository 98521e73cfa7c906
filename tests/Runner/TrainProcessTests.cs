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

    /// <summary>8 updates of 16 envs x 128 steps; periodic checkpoints off unless asked for.</summary>
    private static string[] Train(string dir, int checkpointEvery = 0, bool resume = false) =>
    [
        "train", "--method", "std", "--preset", "constant", "--envs", "16", "--steps", "16384", "--seed", "11",
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

    private string Uninterrupted()
    {
        string dir = Dir("uninterrupted");
        var (code, _, stderr) = RunnerProcess.Run(Train(dir));
        Assert.True(code == 0, stderr);
        return dir;
    }

    [Theory]
    [InlineData(SigTerm)]
    [InlineData(SigInt)]
    [InlineData(SigHup)]
    public void ASignalBeforeTheFirstPeriodicCheckpointCheckpointsExitsWith128PlusNAndResumesExactly(int signal)
    {
        string dir = Dir("signalled");
        int signalledAfter;
        using (var run = new RunnerProcess(Train(dir)))
        {
            run.WaitUntil(() => Updates(dir) >= 2, TimeSpan.FromMinutes(2), "two updates");
            signalledAfter = Updates(dir);
            run.Signal(signal);
            Assert.Equal(128 + signal, run.WaitForExit(TimeSpan.FromMinutes(2)));
            string name = signal switch { SigTerm => "SIGTERM", SigInt => "SIGINT", _ => "SIGHUP" };
            Assert.Equal($"stopping on {name}: finishing the current update, then writing the checkpoint (send it again to kill)", run.Stderr.Trim());
            string[] stdout = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(stdout, l => l.StartsWith("stopped at step ", StringComparison.Ordinal));
            Assert.Equal($"to continue: Runner {string.Join(' ', Train(dir))} --resume", stdout[^1]);
        }
        // The update under way when the signal came (and at most one that ended between reading the file and sending
        // it) completes; no further update starts.
        int stoppedAt = Updates(dir);
        Assert.InRange(stoppedAt, signalledAfter, signalledAfter + 2);
        Assert.Contains(",stopped,", File.ReadAllText(Path.Combine(dir, RunDirectory.SessionsFile)));

        var (code, _, stderr) = RunnerProcess.Run(Train(dir, resume: true));
        Assert.True(code == 0, stderr);
        string straight = Uninterrupted();
        Assert.Equal(Episodes(straight), Episodes(dir));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(dir));
    }

    [Fact]
    public void SigkillLosesOnlyWhatFollowedTheLastCheckpoint()
    {
        string dir = Dir("killed");
        using (var run = new RunnerProcess(Train(dir, checkpointEvery: 2)))
        {
            run.WaitUntil(() => Updates(dir) >= 3, TimeSpan.FromMinutes(2), "three updates");
            run.Signal(SigKill);
            Assert.Equal(128 + SigKill, run.WaitForExit(TimeSpan.FromMinutes(1)));
        }
        var (code, stdout, stderr) = RunnerProcess.Run(Train(dir, checkpointEvery: 2, resume: true));
        Assert.True(code == 0, stderr);
        Assert.Contains("resumed at step", stdout);
        string straight = Uninterrupted();
        Assert.Equal(Episodes(straight), Episodes(dir));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(dir));
    }

    [Fact]
    public void ASigkilledBulletRunResumesToTheFilesOfAnUninterruptedOne()
    {
        // seed2023 runs on the Bullet Ant; friction 0.8, 0.2 from summed step 2,020 (mid-episode), 0.5 from 4,040.
        string frictions = Path.Combine(_root, "frictions.txt");
        Directory.CreateDirectory(_root);
        File.WriteAllLines(frictions, Enumerable.Repeat("0.8 0.2 0.5", 12));
        string[] Bullet(string dir, bool resume = false) =>
        [
            "train", "--method", "std", "--preset", "seed2023", "--envs", "4", "--batch-size", "1024", "--steps", "5120",
            "--change-every", "2020", "--frictions", frictions, "--seed", "11", "--checkpoint-every", "1", "--checkpoint-minutes", "0",
            "--out", dir, .. resume ? new[] { "--resume" } : [],
        ];
        string dir = Dir("bullet-killed");
        using (var run = new RunnerProcess(Bullet(dir)))
        {
            run.WaitUntil(() => Updates(dir) >= 2, TimeSpan.FromMinutes(3), "two updates");
            run.Signal(SigKill);
            Assert.Equal(128 + SigKill, run.WaitForExit(TimeSpan.FromMinutes(1)));
        }
        Assert.InRange(Updates(dir), 2, 4);
        var (code, stdout, stderr) = RunnerProcess.Run(Bullet(dir, resume: true));
        Assert.True(code == 0, stderr);
        Assert.Contains("resumed at step", stdout);
        string straight = Dir("bullet-straight");
        var (code2, _, stderr2) = RunnerProcess.Run(Bullet(straight));
        Assert.True(code2 == 0, stderr2);
        Assert.Contains("\"Engine\": \"Bullet\"", File.ReadAllText(Path.Combine(straight, RunDirectory.ConfigFile)));
        Assert.Equal(Episodes(straight), Episodes(dir));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(dir));
    }

    [Fact]
    public void ASecondProcessOnTheSameDirectoryIsRefusedAndTheFirstFinishesIntact()
    {
        string dir = Dir("shared");
        using (var first = new RunnerProcess(Train(dir)))
        {
            first.WaitUntil(() => Updates(dir) >= 1, TimeSpan.FromMinutes(2), "the first update");
            foreach (bool resume in new[] { false, true })
            {
                var (code, stdout, stderr) = RunnerProcess.Run(Train(dir, resume: resume));
                Assert.Equal(1, code);
                string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.Single(lines);
                Assert.Contains($"in use by another Runner process (PID {first.Pid})", lines[0]);
                Assert.DoesNotContain("step", stdout);
            }
            Assert.Equal(0, first.WaitForExit(TimeSpan.FromMinutes(3)));
        }
        string straight = Uninterrupted();
        Assert.Equal(Episodes(straight), Episodes(dir));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(dir));
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
