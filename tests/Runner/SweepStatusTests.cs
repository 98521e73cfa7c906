using CbpGpu.Agent.Training;
using CbpGpu.Tests.Agent;
using CbpGpu.Tests.Methods;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>`sweep --status`: each run's state read from real run directories (finished, stopped, failed, running, not started).</summary>
public sealed class SweepStatusTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("sweep-status");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static readonly string[] Shared = ["--preset", "constant", "--envs", "16", "--checkpoint-every", "1", "--threads", "2"];

    /// <summary>The run the sweep would start, trained here in-process to <paramref name="steps"/>.</summary>
    private int Train(string method, int seed, string steps) => CbpGpu.Runner.Program.Main(
        ["train", "--method", method, "--seed", $"{seed}", "--out", Path.Combine(_root, method, $"seed-{seed}"), "--resume-if-present", .. Shared, "--steps", steps]);

    [Fact]
    public void EachRunsStateAndTheTotalsComeFromItsDirectory()
    {
        Assert.Equal(0, Train("std", 0, "4096"));
        Assert.Equal(0, Train("std", 1, "2048"));    // its checkpoint at 2,048 of the sweep's 4,096
        Assert.Equal(1, Train("failing", 0, "4096")); // checkpointed after update 1, failed in update 2
        string[] status = ["sweep", "--methods", "std,failing", "--seeds", "0,1", .. Shared, "--steps", "4096", "--out", _root, "--status"];

        var outcome = Invoke(status);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        // What is left of a run, at the pace of its last update (its wall time in updates.csv over its 2,048 steps).
        string[] update = File.ReadAllLines(Path.Combine(_root, "std", "seed-1", RunDirectory.UpdatesFile));
        double seconds = TrainingLogs.UpdateTimingColumns.Sum(c =>
            double.Parse(update[1].Split(',')[Array.IndexOf(update[0].Split(','), c)], System.Globalization.CultureInfo.InvariantCulture));
        string left = $"; about {TrainingProgress.Duration(seconds / 2048 * (4096 - 2048))} left at its last update's pace";
        Assert.Equal(
            [
                $"sweep status: 4 runs in {_root}",
                "std seed 0: finished (4,096 steps)",
                "std seed 1: stopped at its checkpoint, 2,048 of 4,096 (50.0%)" + left,
                $"failing seed 0: failed at step 4,096: internal error: System.InvalidOperationException: {FailingMethod.Message}; its checkpoint: 2,048 of 4,096 (50.0%)",
                "failing seed 1: not started",
                "runs: 1 finished, 0 running, 1 stopped, 1 failed, 1 not started | step 8,192 / 16,384 (50.0%)",
            ],
            outcome.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
        Assert.False(Directory.Exists(Path.Combine(_root, "failing", "seed-1")));   // nothing was started
        Assert.False(Directory.Exists(Path.Combine(_root, "logs")));

        // A process holding a run's directory (here this one) is a run under way.
        using (RunLock.Acquire(Path.Combine(_root, "std", "seed-1")))
        {
            var running = Invoke(status);
            Assert.Contains($"std seed 1: running (PID {Environment.ProcessId}): step 2,048 of 4,096 (50.0%), checkpoint at 2,048{left}", running.Output);
            Assert.Contains("runs: 1 finished, 1 running, 0 stopped, 1 failed, 1 not started | step 8,192 / 16,384 (50.0%)", running.Output);
        }

        var both = Invoke([.. status, "--emit", "slurm", Path.Combine(_root, "job.sh")]);
        Assert.Equal(2, both.ExitCode);
        Assert.StartsWith("error: --status and --emit are both given; give one", both.ErrorLine);
    }

    /// <summary>
    /// The pace averages the last 10 updates: rows k = 1..12 at step 2048k taking k + 0.5 + 2 seconds give, from the last
    /// 10 (k = 3..12), (75 + 5 + 20) s over 12 x 2048 - 2 x 2048 = 20,480 steps; with 3 rows, all of them since step 0,
    /// (6 + 1.5 + 6) s over 6,144 steps.
    /// </summary>
    [Theory]
    [InlineData(12, 100.0 / 20480, 10)]
    [InlineData(3, 13.5 / 6144, 3)]
    public void ThePaceIsTheWallTimeOfTheLastTenUpdatesOverTheirSteps(int rows, double secondsPerStep, int updates)
    {
        string dir = Directory.CreateDirectory(Path.Combine(_root, $"pace-{rows}")).FullName;
        var lines = new List<string> { "update,step," + string.Join(',', TrainingLogs.UpdateTimingColumns) };
        for (int k = 1; k <= rows; k++) lines.Add(FormattableString.Invariant($"{k},{2048 * k},{k},0.5,2"));
        File.WriteAllLines(Path.Combine(dir, RunDirectory.UpdatesFile), lines);

        var pace = CbpGpu.Runner.Commands.SweepScheduler.Pace(dir);
        Assert.NotNull(pace);
        Assert.Equal(secondsPerStep, pace.Value.SecondsPerStep, 15);
        Assert.Equal(updates, pace.Value.Updates);
    }
}
