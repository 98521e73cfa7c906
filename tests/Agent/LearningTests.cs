using System.Globalization;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// Standard PPO on the real Ant at constant friction 1.0 learns within 100k steps (about 40 s here).
/// What improves this early is the reward per step: episode returns first get WORSE, because a policy that
/// stops flipping over survives longer while each step still costs more control than it earns (measured: returns
/// of the last 20 episodes at 100k are below the first 20's for seeds 1-3, reward per step is 0.9-1.7 higher).
/// So the check is reward per env step, pooled over the episodes that ended in the first and in the last 20k steps.
/// </summary>
public sealed class LearningTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cbpgpu-learning-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public void RewardPerStepRisesWithin100kSteps()
    {
        var config = new TrainConfig(EnvSettings.Constant(64, 1.0), PpoSettings.For(PpoMethod.Standard), new RunSettings(1, 100_000, "cpu", 1, 2, 0));
        using (var trainer = new Trainer(config, _dir, false, TextWriter.Null))
            trainer.Run(CancellationToken.None);

        var episodes = File.ReadLines(Path.Combine(_dir, RunDirectory.EpisodesFile)).Skip(1)
            .Select(l => l.Split(','))
            .Select(f => (Step: long.Parse(f[0], CultureInfo.InvariantCulture), Return: double.Parse(f[2], CultureInfo.InvariantCulture), Length: int.Parse(f[3], CultureInfo.InvariantCulture)))
            .ToList();
        long last = episodes.Max(e => e.Step);
        var early = episodes.Where(e => e.Step <= 20_000).ToList();
        var late = episodes.Where(e => e.Step > last - 20_000).ToList();
        Assert.True(early.Count >= 50 && late.Count >= 50, $"too few episodes: {early.Count} early, {late.Count} late");
        double earlyPerStep = early.Sum(e => e.Return) / early.Sum(e => e.Length);
        double latePerStep = late.Sum(e => e.Return) / late.Sum(e => e.Length);
        // Seed 1 measured -5.22 -> -3.65; seeds 2 and 3 rose by 0.90 and 1.66. A policy that does not learn stays put.
        Assert.True(latePerStep - earlyPerStep >= 0.5, $"reward per step {earlyPerStep:F2} in the first 20k steps, {latePerStep:F2} in the last 20k");
    }
}
