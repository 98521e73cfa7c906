using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>Runs of the real trainer (MuJoCo Ant, TorchSharp) a few updates long: determinism, resume, refusals.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cbpgpu-trainer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static TrainConfig Config(long steps, PpoMethod method = PpoMethod.Standard, int envs = 16, ulong seed = 7) =>
        new(EnvSettings.Constant(envs, 1.0), PpoSettings.For(method), new RunSettings(seed, steps, "cpu", 2, 2, 1));

    private string Train(string name, TrainConfig config, bool resume = false, CancellationToken stop = default)
    {
        string dir = Path.Combine(_root, name);
        using var trainer = new Trainer(config, dir, resume, TextWriter.Null);
        trainer.Run(stop);
        return dir;
    }

    private static string[] UpdateRowsWithoutTimings(string dir) =>
        File.ReadAllLines(Path.Combine(dir, Trainer.UpdatesFile)).Select(l => string.Join(',', l.Split(',')[..13])).ToArray();

    private static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Fact]
    public void SameSeedGivesIdenticalEpisodesAndResumeContinuesExactly()
    {
        // 16 envs x 128 steps per update; 3 updates straight vs 1 update, stop, resume to 3.
        string straight = Train("straight", Config(3 * 2048));
        string again = Train("again", Config(3 * 2048));
        string split = Train("split", Config(2048));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(split, Trainer.UpdatesFile)).Length);
        Train("split", Config(3 * 2048), resume: true);

        byte[] episodes = File.ReadAllBytes(Path.Combine(straight, Trainer.EpisodesFile));
        Assert.True(File.ReadAllLines(Path.Combine(straight, Trainer.EpisodesFile)).Length > 20, "expected episodes to end in 6k steps of a fresh policy");
        Assert.Equal(episodes, File.ReadAllBytes(Path.Combine(again, Trainer.EpisodesFile)));
        Assert.Equal(episodes, File.ReadAllBytes(Path.Combine(split, Trainer.EpisodesFile)));
        Assert.Equal(UpdateRowsWithoutTimings(straight), UpdateRowsWithoutTimings(again));
        Assert.Equal(UpdateRowsWithoutTimings(straight), UpdateRowsWithoutTimings(split));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(split, Trainer.UpdatesFile)).Length);
    }

    [Fact]
    public void StopRequestEndsAtAnUpdateBoundaryWithACheckpoint()
    {
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        string dir = Path.Combine(_root, "stopped");
        using (var trainer = new Trainer(Config(10 * 2048), dir, false, TextWriter.Null))
        {
            var result = trainer.Run(stop.Token);
            Assert.True(result.Stopped);
            Assert.Equal(0, result.SessionSteps);
        }
        Assert.True(File.Exists(Path.Combine(dir, Checkpoint.FileName)));
        Train("stopped", Config(2048), resume: true);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(dir, Trainer.UpdatesFile)).Length);
    }

    [Fact]
    public void RefusesToReuseADirectoryOrResumeFromABadCheckpointAndChangesNothing()
    {
        string dir = Train("run", Config(2048));
        var before = Snapshot(dir);

        var fresh = Assert.Throws<TrainingException>(() => Train("run", Config(2048)));
        Assert.Contains("already holds a run", fresh.Message);

        var other = Assert.Throws<TrainingException>(() => Train("run", Config(4096, PpoMethod.NsAdam), resume: true));
        Assert.Contains("Ppo.Method", other.Message);
        var envs = Assert.Throws<TrainingException>(() => Train("run", Config(4096, envs: 32), resume: true));
        Assert.Contains("Env.NumEnvs", envs.Message);
        Assert.Equal(before, Snapshot(dir));

        string checkpoint = Path.Combine(dir, Checkpoint.FileName);
        byte[] bytes = File.ReadAllBytes(checkpoint);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(checkpoint, bytes);
        before = Snapshot(dir);
        var corrupt = Assert.Throws<TrainingException>(() => Train("run", Config(4096), resume: true));
        Assert.Contains("corrupt", corrupt.Message);
        Assert.DoesNotContain('\n', corrupt.Message);
        Assert.Equal(before, Snapshot(dir));

        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length / 3)]);
        before = Snapshot(dir);
        Assert.Contains("corrupt", Assert.Throws<TrainingException>(() => Train("run", Config(4096), resume: true)).Message);
        Assert.Equal(before, Snapshot(dir));

        var missing = Assert.Throws<TrainingException>(() => Train("nothing-here", Config(2048), resume: true));
        Assert.Contains("no checkpoint", missing.Message);
    }
}
