using Xunit;
using CbpGpu.Physics;

namespace CbpGpu.Tests.Physics;

public class VectorEnvTests
{
    // Short episodes so auto-reset happens within a few dozen steps.
    private static readonly EnvConfig ShortEpisodes = new(MaxEpisodeSteps: 15);

    private static float[] RandomActions(ref Rng rng, int count)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++) a[i] = (float)rng.Uniform(-1, 1);
        return a;
    }

    [Fact]
    public void VectorOfNEqualsNSingleEnvsWithTheSameSeeds()
    {
        const int n = 3, steps = 40;
        const ulong seed = 77;
        using var vec = new VectorEnv(n, ShortEpisodes, FrictionConfig.Constant(0.7), seed, threads: 2);
        var singles = Enumerable.Range(0, n).Select(i => new SlipperyAnt(ShortEpisodes, seed, i, friction: 0.7)).ToArray();
        try
        {
            var obs = new float[n][];
            for (int i = 0; i < n; i++)
            {
                obs[i] = new float[111];
                singles[i].WriteObservation(obs[i]);
                Assert.Equal(obs[i], vec.Observations.AsSpan(i * 111, 111).ToArray());
            }
            var rng = new Rng(5, 0);
            int ended = 0;
            for (int t = 0; t < steps; t++)
            {
                var actions = RandomActions(ref rng, n * 8);
                vec.Step(actions);
                for (int i = 0; i < n; i++)
                {
                    var r = singles[i].Step(actions.AsSpan(i * 8, 8), obs[i]);
                    Assert.Equal((float)r.Reward, vec.Rewards[i]);
                    Assert.Equal(r.Terminated, vec.Terminated[i]);
                    Assert.Equal(r.Truncated, vec.Truncated[i]);
                    if (r.Terminated || r.Truncated)
                    {
                        ended++;
                        Assert.Equal(obs[i], vec.FinalObservations.AsSpan(i * 111, 111).ToArray());
                        Assert.Equal(singles[i].EpisodeReturn, vec.EpisodeReturns[i]);
                        Assert.Equal(singles[i].EpisodeLength, vec.EpisodeLengths[i]);
                        Assert.Equal(0.7, vec.EpisodeFrictions[i]);
                        singles[i].Reset(obs[i]);
                    }
                    Assert.Equal(obs[i], vec.Observations.AsSpan(i * 111, 111).ToArray());
                }
            }
            Assert.True(ended >= n * 2, "every env should have auto-reset at least twice");
            Assert.Equal((long)n * steps, vec.TotalSteps);
        }
        finally
        {
            foreach (var s in singles) s.Dispose();
        }
    }

    private static (float[] Obs, float[] Rewards, double[] Returns, double[] Frictions) Run(int threads, int steps, ulong seed, FrictionConfig friction)
    {
        using var vec = new VectorEnv(5, ShortEpisodes, friction, seed, threads);
        var rng = new Rng(9, 0);
        var rewards = new List<float>();
        var returns = new List<double>();
        var frictions = new List<double>();
        for (int t = 0; t < steps; t++)
        {
            vec.Step(RandomActions(ref rng, 5 * 8));
            rewards.AddRange(vec.Rewards);
            returns.AddRange(vec.EpisodeReturns);
            frictions.AddRange(vec.Frictions);
        }
        return (vec.Observations.ToArray(), rewards.ToArray(), returns.ToArray(), frictions.ToArray());
    }

    [Fact]
    public void RunsAreDeterministicAndIndependentOfTheThreadCount()
    {
        var config = FrictionConfig.Nature2024 with { ChangeEverySteps = 40 };
        var a = Run(1, 30, 3, config);
        var b = Run(3, 30, 3, config);
        var c = Run(3, 30, 3, config);
        foreach (var other in new[] { b, c })
        {
            Assert.Equal(a.Obs, other.Obs);
            Assert.Equal(a.Rewards, other.Rewards);
            Assert.Equal(a.Returns, other.Returns);
            Assert.Equal(a.Frictions, other.Frictions);
        }
        Assert.Contains(a.Returns, r => r != 0); // episodes ended along the way
        Assert.True(a.Frictions.Distinct().Count() >= 2, "a friction change happened along the way");
        var d = Run(2, 30, 4, config);
        Assert.NotEqual(a.Obs, d.Obs);
    }

    [Fact]
    public void SaveStateThenLoadStateResumesBitForBit()
    {
        var friction = FrictionConfig.Nature2024 with { ChangeEverySteps = 50 };
        using var original = new VectorEnv(4, ShortEpisodes, friction, seed: 21, threads: 2);
        var rng = new Rng(13, 0);
        for (int t = 0; t < 23; t++) original.Step(RandomActions(ref rng, 32));
        var saved = new MemoryStream();
        using (var w = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) original.SaveState(w);

        // A different seed and thread count: everything must come from the saved state.
        using var resumed = new VectorEnv(4, ShortEpisodes, friction, seed: 999, threads: 1);
        saved.Position = 0;
        using (var r = new BinaryReader(saved)) resumed.LoadState(r);
        Assert.Equal(original.Observations, resumed.Observations);
        Assert.Equal(original.TotalSteps, resumed.TotalSteps);
        Assert.Equal(original.Frictions, resumed.Frictions);

        var frictionsSeen = new HashSet<double>();
        for (int t = 0; t < 40; t++)
        {
            var actions = RandomActions(ref rng, 32);
            original.Step(actions);
            resumed.Step(actions);
            VectorEnvAssert.SameStepOutputs(original, resumed);
            foreach (var f in original.Frictions) frictionsSeen.Add(f);
        }
        Assert.True(frictionsSeen.Count >= 2, "the resumed stretch should include a friction change");
    }

    [Fact]
    public void LoadStateRejectsAStateSavedWithOtherSettings()
    {
        using var a = new VectorEnv(2, ShortEpisodes, FrictionConfig.Constant(1), seed: 1, threads: 1);
        var saved = new MemoryStream();
        using (var w = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) a.SaveState(w);
        using var b = new VectorEnv(3, ShortEpisodes, FrictionConfig.Constant(1), seed: 1, threads: 1);
        saved.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => b.LoadState(new BinaryReader(saved)));
        Assert.Contains("2 envs", e.Message);
        Assert.Contains("3 envs", e.Message);
        var junk = new MemoryStream([1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => b.LoadState(new BinaryReader(junk)));

        // A truncated state with matching settings fails cleanly and leaves the env as it was.
        using var c = new VectorEnv(2, ShortEpisodes, FrictionConfig.Constant(1), seed: 5, threads: 1);
        c.Step(new float[16]);
        var obsBefore = c.Observations.ToArray();
        var half = new MemoryStream(saved.ToArray()[..(int)(saved.Length / 2)]);
        Assert.Throws<InvalidDataException>(() => c.LoadState(new BinaryReader(half)));
        Assert.Equal(obsBefore, c.Observations);
        Assert.Equal(2, c.TotalSteps);
        Assert.Equal(1, c.GetEnv(0).EpisodeLength);
    }

    [Fact]
    public void Seed2023SwitchesAllEnvsAtOnceMidEpisode()
    {
        var friction = FrictionConfig.Seed2023 with { ChangeEverySteps = 30 };
        using var vec = new VectorEnv(3, EnvConfig.Seed2023, friction, seed: 8, threads: 2);
        double f0 = vec.Schedule.ValueAt(0), f1 = vec.Schedule.ValueAt(1);
        Assert.All(vec.Frictions, f => Assert.Equal(f0, f));
        var zero = new float[24];
        for (int t = 0; t < 10; t++) vec.Step(zero); // steps 0..29 summed over envs
        Assert.All(vec.Frictions, f => Assert.Equal(f0, f));
        vec.Step(zero);                              // starts at step 30: the new value applies
        Assert.All(vec.Frictions, f => Assert.Equal(f1, f));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(f1, vec.GetEnv(i).Friction);
            Assert.Equal(11, vec.GetEnv(i).EpisodeLength); // no episode restarted
        }
    }

    [Fact]
    public void Nature2024EnvsAdoptANewValueAtTheirOwnNextEpisodeEnd()
    {
        var friction = FrictionConfig.Nature2024 with { ChangeEverySteps = 20 };
        // Different episode phases: env 1 ends earlier because its first episode was shortened by hand below.
        using var vec = new VectorEnv(2, ShortEpisodes, friction, seed: 8, threads: 1);
        double f0 = vec.Schedule.ValueAt(0), f1 = vec.Schedule.ValueAt(1);
        var zero = new float[16];
        for (int t = 0; t < 10; t++) vec.Step(zero);   // 20 steps summed: the new value is drawn in step 10
        Assert.Equal(1, vec.Schedule.Generation);
        Assert.All(vec.Frictions, f => Assert.Equal(f0, f)); // but nobody's episode has ended yet
        for (int t = 10; t < 15; t++)
        {
            vec.Step(zero);
            if (t < 14) Assert.All(vec.Frictions, f => Assert.Equal(f0, f));
        }
        // Both episodes hit the 15-step limit in step 15: they ended with f0 and restart with f1.
        Assert.All(vec.Truncated, Assert.True);
        Assert.All(vec.EpisodeFrictions, f => Assert.Equal(f0, f));
        Assert.All(vec.Frictions, f => Assert.Equal(f1, f));
        Assert.All(vec.EpisodeLengths, l => Assert.Equal(15, l));
    }

    [Fact]
    public void OneEnvFollowsTheAuthorsChangeRuleStepForStep()
    {
        // The authors' loop (lop/rl/run_ppo.py) written out over a lone Ant: at each episode end, a new friction when the
        // step index is more than change_time past previous_change_time; it applies from the next episode.
        const int period = 40, steps = 400;
        var friction = FrictionConfig.Nature2024 with { ChangeEverySteps = period, Table = [0.5, 1.5, 0.1, 0.9, 0.3, 1.1, 0.2, 0.7, 1.9, 0.05, 0.4, 0.6] };
        using var vec = new VectorEnv(1, ShortEpisodes, friction, seed: 4, threads: 1);
        using var lone = new SlipperyAnt(ShortEpisodes, 4, 0, friction: 0.5);
        var rng = new Rng(9, 0);
        var obs = new float[111];
        long previousChangeTime = 0;
        int frictionNumber = 0, changes = 0;
        for (int step = 0; step < steps; step++)
        {
            var a = RandomActions(ref rng, 8);
            vec.Step(a);
            var r = lone.Step(a, obs);
            Assert.Equal(r.Terminated || r.Truncated, vec.Terminated[0] || vec.Truncated[0]);
            if (r.Terminated || r.Truncated)
            {
                Assert.Equal(lone.Friction, vec.EpisodeFrictions[0]);
                if (step - previousChangeTime > period)
                {
                    previousChangeTime = step;
                    lone.Friction = friction.Table[++frictionNumber];
                    changes++;
                }
                lone.Reset(obs);
            }
            Assert.Equal(lone.Friction, vec.Frictions[0]);
            Assert.Equal(frictionNumber, vec.Schedule.Generation);
            Assert.Equal(previousChangeTime, vec.Schedule.LastChangeStep);
            Assert.Equal(obs, vec.Observations);
        }
        Assert.InRange(changes, 5, 11); // 15-step episodes and a 40-step period: a change every third episode end or so
    }

    [Fact]
    public void NonFiniteActionsAreRejectedNamingTheEnvBeforeAnyEnvSteps()
    {
        using var vec = new VectorEnv(4, new EnvConfig(), FrictionConfig.Constant(1), seed: 1, threads: 2);
        var actions = new float[32];
        actions[2 * 8 + 5] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => vec.Step(actions));
        Assert.Contains("env 2", e.Message);
        actions[2 * 8 + 5] = float.NegativeInfinity;
        Assert.Contains("env 2", Assert.Throws<ArgumentException>(() => vec.Step(actions)).Message);
        Assert.Equal(0, vec.TotalSteps);
        Assert.Equal(0, vec.GetEnv(0).EpisodeLength);
        Assert.Throws<ArgumentException>(() => vec.Step(new float[31]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void StepAllocatesNothing(int threads)
    {
        using var vec = new VectorEnv(4, ShortEpisodes, FrictionConfig.Nature2024 with { ChangeEverySteps = 40 }, seed: 2, threads);
        var rng = new Rng(1, 0);
        var actions = RandomActions(ref rng, 32);
        for (int t = 0; t < 50; t++) vec.Step(actions); // warm up: JIT, resets, a friction change
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 100; t++) vec.Step(actions); // includes auto-resets and friction adoption
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
    }

    [Fact]
    public void ResetStartsFreshEpisodesEverywhere()
    {
        using var vec = new VectorEnv(3, new EnvConfig(), FrictionConfig.Constant(1), seed: 6, threads: 2);
        var zero = new float[24];
        for (int t = 0; t < 5; t++) vec.Step(zero);
        var before = vec.Observations.ToArray();
        vec.Reset();
        Assert.NotEqual(before, vec.Observations);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(0, vec.GetEnv(i).EpisodeLength);
            Assert.InRange(vec.Observations[i * 111], 0.65, 0.85); // torso height near 0.75 after reset noise
        }
    }
}
