using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>Small real training runs (MuJoCo Ant, TorchSharp) for the trainer tests, and ways to look at their files.</summary>
internal static class TrainRuns
{
    /// <summary>16 envs x 128 steps per update (2,048 env steps), constant friction, checkpoint every update.</summary>
    public static TrainConfig Config(long steps, PpoMethod? method = null, int envs = 16, ulong seed = 7, int checkpointEvery = 1) =>
        new(EnvSettings.Constant(envs, 1.0), PpoSettings.For(method ?? PpoMethod.Standard), new RunSettings(seed, steps, "cpu", 1, 2, checkpointEvery),
            method == PpoMethod.Cbp ? CbpSettings.Nature2024 with { MaturityThreshold = 50, ReplacementRate = 1e-2 } : null);

    public static TrainResult Train(string dir, TrainConfig config, bool resume = false, CancellationToken stop = default)
    {
        using var trainer = new Trainer(config, dir, resume, TextWriter.Null);
        return trainer.Run(stop);
    }

    /// <summary>Every file of the directory, by name, with its bytes; the lock file (which only names its last holder) aside.</summary>
    public static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != RunLock.FileName).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    /// <summary>updates.csv without its timing columns (the only ones that differ between identical runs).</summary>
    public static string[] UpdatesWithoutTimings(string dir) =>
        File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile)).Select(l => string.Join(',', l.Split(',')[..^3])).ToArray();

    /// <summary>updates.csv cut down to the named columns, in that order, as written (header included).</summary>
    public static string[] UpdateColumns(string dir, string[] columns)
    {
        string[] lines = File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile));
        string[] header = lines[0].Split(',');
        int[] index = columns.Select(c => Array.IndexOf(header, c)).ToArray();
        Assert.DoesNotContain(-1, index);
        return lines.Select(l => l.Split(',')).Select(f => string.Join(',', index.Select(i => f[i]))).ToArray();
    }

    public static byte[] Episodes(string dir) => File.ReadAllBytes(Path.Combine(dir, RunDirectory.EpisodesFile));

    public static string NewRoot(string name) => Path.Combine(Path.GetTempPath(), $"cbpgpu-{name}-{Guid.NewGuid():N}");
}
