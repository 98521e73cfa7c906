using System.Globalization;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;

namespace CbpGpu.Tests.Agent;

/// <summary>Runs of the real trainer (MuJoCo and Bullet Ants, TorchSharp) a few updates long: determinism, resume, refusals, logs.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string _root = NewRoot("trainer");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    [Fact]
    public void SameSeedGivesIdenticalFilesAndResumeContinuesExactly()
    {
        // 3 updates straight vs 1 update, stop, resume to 3.
        string straight = Dir("straight"), again = Dir("again"), split = Dir("split");
        Train(straight, Config(3 * 2048));
        Train(again, Config(3 * 2048));
        Train(split, Config(2048));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(split, RunDirectory.UpdatesFile)).Length);
        Train(split, Config(3 * 2048), resume: true);

        Assert.True(File.ReadAllLines(Path.Combine(straight, RunDirectory.EpisodesFile)).Length > 20, "expected episodes to end in 6k steps of a fresh policy");
        Assert.Equal(Episodes(straight), Episodes(again));
        Assert.Equal(Episodes(straight), Episodes(split));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(again));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(split));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(split, RunDirectory.UpdatesFile)).Length);
    }

    [Fact]
    public void ActivityCsvResumesExactlyAfterAKillThatLeftRowsPastTheCheckpoint()
    {
        // 5 updates of 2,048 steps straight; against: 2 updates (a checkpoint mid-window, at 4,096), on to 3 (rows to
        // 6,000 written), then that checkpoint put back as if the process had been killed before its next one, and
        // resumed to 5: activity.csv is cut back and continued to the same bytes, stable rank at 10,000 included.
        string straight = Dir("activity-straight"), killed = Dir("activity-killed");
        Train(straight, Config(5 * 2048));
        Train(killed, Config(2 * 2048));
        string checkpoint = Path.Combine(killed, RunDirectory.CheckpointFile);
        byte[] atStep4096 = File.ReadAllBytes(checkpoint);
        Train(killed, Config(3 * 2048), resume: true);
        Assert.Equal(7, File.ReadAllLines(Path.Combine(killed, RunDirectory.ActivityFile)).Length);
        File.WriteAllBytes(checkpoint, atStep4096);
        Train(killed, Config(5 * 2048), resume: true);

        string[] rows = File.ReadAllLines(Path.Combine(straight, RunDirectory.ActivityFile));
        Assert.Equal("step,dormant_share,stable_rank,stable_rank_percent", rows[0]);
        Assert.Equal(Enumerable.Range(1, 10).Select(k => (1000 * k).ToString(CultureInfo.InvariantCulture)), rows.Skip(1).Select(r => r.Split(',')[0]));
        var last = rows[^1].Split(',').Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        Assert.InRange(last[2], 2, 256);
        Assert.Equal(100 * last[2] / 256, last[3]);
        Assert.All(rows.Skip(1).SkipLast(1), r => Assert.EndsWith(",NaN,NaN", r));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, RunDirectory.ActivityFile)), File.ReadAllBytes(Path.Combine(killed, RunDirectory.ActivityFile)));
        Assert.Equal(Episodes(straight), Episodes(killed));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(killed));
    }

    [Fact]
    public void ABulletRunStoppedWithEpisodesInFlightResumesToTheSameFiles()
    {
        // The report's task and learner on the Bullet Ant, shortened: 4 envs x 256 steps per update, 200-step episodes,
        // friction 0.8 and then 0.2 from vector step 505 (summed step 2,020), mid-episode. The checkpoint after update 2
        // (vector step 512) falls inside episodes that met the friction change: the resume replays them
        // (docs/bullet-ant.md#checkpoints).
        var env = EnvSettings.Seed2023(4);
        var config = env with { Ant = env.Ant with { MaxEpisodeSteps = 200 }, Friction = env.Friction with { ChangeEverySteps = 2020, Table = [0.8, 0.2] } };
        TrainConfig Bullet(long steps) => new(
            config,
            PpoSettings.Seed2023(PpoMethod.Standard) with { BatchSize = 1024, Minibatches = 8 },
            new RunSettings(7, steps, "cpu", 1, 2, 1), null);
        string straight = Dir("bullet-straight"), split = Dir("bullet-split");
        Train(straight, Bullet(3 * 1024));
        Train(split, Bullet(2 * 1024));
        Train(split, Bullet(3 * 1024), resume: true);

        Assert.Equal(Episodes(straight), Episodes(split));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(split));
        var episodes = File.ReadAllLines(Path.Combine(straight, RunDirectory.EpisodesFile)).Skip(1)
            .Select(l => l.Split(',')).Select(f => (End: long.Parse(f[0], CultureInfo.InvariantCulture) / 4, Length: int.Parse(f[3], CultureInfo.InvariantCulture)));
        Assert.Contains(episodes, e => e.End > 512 && e.End - e.Length < 505);
    }

    [Fact]
    public void ResumeRecordsAChangedStepBudgetAndKeepsConfigInStepWithTheLogs()
    {
        string dir = Dir("grow");
        Train(dir, Config(2048));
        Train(dir, Config(2 * 2048), resume: true);

        var config = TrainConfig.FromJson(File.ReadAllText(Path.Combine(dir, RunDirectory.ConfigFile)));
        Assert.Equal(2 * 2048, config.Run.TotalSteps);
        string[] sessions = File.ReadAllLines(Path.Combine(dir, RunDirectory.SessionsFile));
        Assert.Equal("time_utc,event,step,total_steps,detail", sessions[0]);
        Assert.Equal(["created", "finished", "resumed", "finished"], sessions.Skip(1).Select(l => l.Split(',')[1]));
        Assert.Contains("Run.TotalSteps (checkpoint 2048, now 4096)", sessions[3]);
        Assert.StartsWith("2048,4096,", string.Join(',', sessions[3].Split(',')[2..]));

        // A finished run resumed with its own budget has nothing to do and changes nothing.
        var before = Snapshot(dir);
        var result = Train(dir, Config(2 * 2048), resume: true);
        Assert.Equal(0, result.SessionSteps);
        Assert.False(result.Stopped);
        Assert.Equal(before, Snapshot(dir));

        // A smaller budget than the logs already hold would leave config.json contradicting them: refused.
        var e = Assert.Throws<TrainingException>(() => Train(dir, Config(2048), resume: true));
        Assert.Contains("already at step 4,096", e.Message);
        Assert.Equal(before, Snapshot(dir));
    }

    [Fact]
    public void StopRequestEndsAtAnUpdateBoundaryWithACheckpoint()
    {
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        string dir = Dir("stopped");
        var result = Train(dir, Config(10 * 2048), stop: stop.Token);
        Assert.True(result.Stopped);
        Assert.Equal(0, result.SessionSteps);
        Assert.True(File.Exists(Path.Combine(dir, RunDirectory.CheckpointFile)));
        Train(dir, Config(2048), resume: true);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile)).Length);
    }

    [Fact]
    public void ARunInterruptedBeforeItsFirstPeriodicCheckpointResumesToTheSameFiles()
    {
        // No periodic checkpoints at all: only the one written when the run is created.
        var config = Config(2 * 2048, checkpointEvery: 0) with { Run = Config(2 * 2048).Run with { CheckpointEveryUpdates = 0, CheckpointMinutes = 0 } };
        string straight = Dir("straight"), crashed = Dir("crashed");
        Train(straight, config);
        // Built (directory created, step-0 checkpoint written) and dropped without training, as a SIGKILL would.
        new Trainer(config, crashed, false, TextWriter.Null).Dispose();
        Train(crashed, config, resume: true);
        Assert.Equal(Episodes(straight), Episodes(crashed));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(crashed));
    }

    [Fact]
    public void RefusalsLeaveEveryFileByteIdentical()
    {
        string dir = Dir("run");
        Train(dir, Config(2 * 2048));
        var before = Snapshot(dir);

        Assert.Contains("already holds a run", Assert.Throws<TrainingException>(() => Train(dir, Config(2048))).Message);
        Assert.Contains("Ppo.Method", Assert.Throws<TrainingException>(() => Train(dir, Config(4 * 2048, PpoMethod.NsAdam), resume: true)).Message);
        Assert.Contains("Env.NumEnvs", Assert.Throws<TrainingException>(() => Train(dir, Config(4 * 2048, envs: 32), resume: true)).Message);
        // libtorch rounds its reductions differently with another thread count, so it is part of what a run computes.
        var otherThreads = Config(4 * 2048) with { Run = Config(4 * 2048).Run with { TorchThreads = 2 } };
        Assert.Contains("Run.TorchThreads", Assert.Throws<TrainingException>(() => Train(dir, otherThreads, resume: true)).Message);
        Assert.Equal(before, Snapshot(dir));

        string checkpoint = Path.Combine(dir, RunDirectory.CheckpointFile);
        byte[] good = File.ReadAllBytes(checkpoint);
        byte[] flipped = (byte[])good.Clone();
        flipped[flipped.Length / 2] ^= 0x40;
        foreach (var bad in new[] { flipped, good[..(good.Length / 3)], [] })
        {
            File.WriteAllBytes(checkpoint, bad);
            before = Snapshot(dir);
            var corrupt = Assert.Throws<TrainingException>(() => Train(dir, Config(4 * 2048), resume: true));
            Assert.Contains("corrupt", corrupt.Message);
            // The way forward (issue 25): no backup exists, so a fresh run in another directory.
            Assert.EndsWith($"; nothing was changed; it is the run's only checkpoint (no backup is kept), so the run cannot be continued: " +
                $"start it afresh with another --out (the logs in {dir} stay as they are)", corrupt.Message);
            Assert.DoesNotContain('\n', corrupt.Message);
            Assert.Equal(before, Snapshot(dir));
        }
        File.WriteAllBytes(checkpoint, good);

        // A log cut shorter than the checkpoint recorded cannot be continued exactly.
        string updates = Path.Combine(dir, RunDirectory.UpdatesFile);
        File.WriteAllLines(updates, File.ReadAllLines(updates)[..2]);
        before = Snapshot(dir);
        var cut = Assert.Throws<TrainingException>(() => Train(dir, Config(4 * 2048), resume: true));
        Assert.Contains("updates.csv has", cut.Message);
        Assert.Contains("nothing was changed", cut.Message);
        Assert.Equal(before, Snapshot(dir));

        Assert.Contains("no run in", Assert.Throws<TrainingException>(() => Train(Dir("nothing-here"), Config(2048), resume: true)).Message);
        Assert.False(Directory.Exists(Dir("nothing-here")));
    }

    [Fact]
    public void RefusedResumeFromAnotherMethodsCheckpointKeepsLogsWhole()
    {
        // The reviewed bug: a refused resume used to cut episodes.csv back to the checkpoint before refusing.
        string dir = Dir("longer");
        Train(dir, Config(3 * 2048, checkpointEvery: 2));
        var before = Snapshot(dir);
        Assert.Throws<TrainingException>(() => Train(dir, Config(4 * 2048, PpoMethod.Cbp), resume: true));
        Assert.Equal(before, Snapshot(dir));
    }

    [Fact]
    public void LogHeadersAndRowsAgreeColumnByColumn()
    {
        string dir = Dir("csv");
        Train(dir, Config(3 * 2048, PpoMethod.Cbp));
        string[] updates = File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile));
        string[] header = updates[0].Split(',');
        Assert.Equal(7 + 6 + 4 + 4 * 5 + 4 + 4 + 3, header.Length);
        Assert.Equal(header.Length, header.Distinct().Count());
        for (int u = 1; u < updates.Length; u++)
        {
            var row = header.Zip(updates[u].Split(',')).ToDictionary(p => p.First, p => double.Parse(p.Second, CultureInfo.InvariantCulture));
            Assert.Equal(header.Length, updates[u].Split(',').Length);
            Assert.Equal(u, row["update"]);
            Assert.Equal(u * 2048, row["step"]);
            Assert.InRange(row["clip_fraction"], 0, 1);
            Assert.InRange(row["policy_std"], 0.5, 1.5);
            foreach (var layer in new[] { "policy_h1", "policy_h2", "value_h1", "value_h2" })
                Assert.Equal(256, new[] { "lt1k", "1k_10k", "10k_100k", "100k_1m", "ge1m" }.Sum(b => row[$"age_{b}_{layer}"]));
            foreach (var layer in new[] { "policy_h1", "policy_h2", "value_h1", "value_h2" })
            {
                Assert.InRange(row[$"dormant_{layer}"], 0, 1);
                Assert.InRange(row[$"eff_rank_{layer}"], 1, 256);
            }
            Assert.True(row["env_seconds"] > 0 && row["update_seconds"] > 0);
        }

        string[] episodes = File.ReadAllLines(Path.Combine(dir, RunDirectory.EpisodesFile));
        Assert.Equal("step,env,return,length,friction", episodes[0]);
        foreach (var line in episodes.Skip(1))
        {
            var f = line.Split(',');
            Assert.Equal(5, f.Length);
            Assert.InRange(long.Parse(f[0], CultureInfo.InvariantCulture), 1, 3 * 2048);
            Assert.InRange(int.Parse(f[1], CultureInfo.InvariantCulture), 0, 15);
            Assert.InRange(int.Parse(f[3], CultureInfo.InvariantCulture), 1, 1000);
            Assert.Equal("1", f[4]);
        }
    }

    [Fact]
    public void AStartStoppedBeforeItsFirstCheckpointCanBeStartedOverButNotIfItsLogsHaveRows()
    {
        // What a SIGKILL between creating the files and the step-0 checkpoint leaves: headers only.
        string dir = Dir("aborted");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, RunDirectory.ConfigFile), "{}\n");
        File.WriteAllText(Path.Combine(dir, RunDirectory.EpisodesFile), "step,env,return,length,friction\n");
        Train(dir, Config(2048));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile)).Length);

        string rows = Dir("rows");
        Directory.CreateDirectory(rows);
        File.WriteAllText(Path.Combine(rows, RunDirectory.EpisodesFile), "step,env,return,length,friction\n1,0,-1,1,1\n");
        var before = Snapshot(rows);
        var e = Assert.Throws<TrainingException>(() => Train(rows, Config(2048)));
        Assert.Contains("checkpoint.bin is missing", e.Message);
        Assert.Equal(before, Snapshot(rows));
    }
}
