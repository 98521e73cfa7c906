using CbpGpu.Physics;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// Gym's planar v3 bodies through the env seam (docs/gym-mujoco.md): sizes, reset noise, friction, termination and
/// time limit as Gym documents them, and VectorEnv resuming them bit for bit. The step's reward and observation are
/// checked against an independent C program in <see cref="GymPlanarReplayTests"/>.
/// </summary>
public sealed class GymPlanarEnvTests
{
    private static EnvConfig Config(string id) => EnvRegistry.Get(id).Defaults;

    [Theory]
    [InlineData(EnvRegistry.Hopper, 11, 3)]
    [InlineData(EnvRegistry.Walker2d, 17, 6)]
    [InlineData(EnvRegistry.HalfCheetah, 17, 6)]
    [InlineData(EnvRegistry.Ant, 111, 8)]
    [InlineData(EnvRegistry.AntBullet, 28, 8)]
    public void EachEntryHasGymsSizesAndAThousandStepLimit(string id, int observation, int action)
    {
        using var env = EnvRegistry.Create(Config(id), seed: 1, index: 0, friction: 1.0);
        Assert.Equal((observation, action), (env.ObservationSize, env.ActionSize));
        Assert.Equal((observation, action), EnvRegistry.Sizes(Config(id)));
        Assert.Equal(1000, env.Config.MaxEpisodeSteps);
        Assert.Equal(id, env.Config.Id);
    }

    /// <summary>Hopper and Walker2d: qpos and qvel each get U(-0.005, 0.005); HalfCheetah: qpos U(-0.1, 0.1), qvel 0.1 x N(0, 1).</summary>
    [Theory]
    [InlineData(EnvRegistry.Hopper, 5e-3, false)]
    [InlineData(EnvRegistry.Walker2d, 5e-3, false)]
    [InlineData(EnvRegistry.HalfCheetah, 0.1, true)]
    public void ResetNoiseHasGymsScaleAndShape(string id, double scale, bool gaussianVelocity)
    {
        using var env = (PlanarMuJoCoEnv)EnvRegistry.Create(Config(id), seed: 3, index: 2, friction: 1.0);
        var qpos0 = env.Model.Qpos0.ToArray();
        Assert.Equal(scale, env.Config.ResetNoise);
        double maxPos = 0, maxVel = 0;
        for (int episode = 0; episode < 20; episode++)
        {
            env.Reset(Span<float>.Empty);
            for (int i = 0; i < qpos0.Length; i++) maxPos = Math.Max(maxPos, Math.Abs(env.Data.Qpos[i] - qpos0[i]));
            foreach (double v in env.Data.Qvel) maxVel = Math.Max(maxVel, Math.Abs(v));
        }
        Assert.InRange(maxPos, 0.5 * scale, scale);
        if (gaussianVelocity) Assert.True(maxVel > 1.5 * scale, $"N(0, 1) x {scale} over 180 draws should exceed 1.5 x {scale}; max {maxVel}");
        else Assert.InRange(maxVel, 0.5 * scale, scale);
        if (id != EnvRegistry.HalfCheetah) Assert.Equal(1.25, qpos0[1]); // the torso's height at rest: obs[0]
    }

    [Theory]
    [InlineData(EnvRegistry.Hopper)]
    [InlineData(EnvRegistry.Walker2d)]
    [InlineData(EnvRegistry.HalfCheetah)]
    public void FrictionScalesEverySlidingCoefficientOfTheMjcf(string id)
    {
        using var gym = (PlanarMuJoCoEnv)EnvRegistry.Create(Config(id), seed: 1, index: 0, friction: 1.0);
        using var slippery = (PlanarMuJoCoEnv)EnvRegistry.Create(Config(id), seed: 1, index: 0, friction: 0.25);
        var f1 = gym.Model.GeomFriction.ToArray();
        var f2 = slippery.Model.GeomFriction.ToArray();
        using (var fresh = MjcfAsset.Create(id switch { EnvRegistry.Hopper => "hopper.xml", EnvRegistry.Walker2d => "walker2d.xml", _ => "half_cheetah.xml" }))
            Assert.Equal(fresh.GeomFriction.ToArray(), f1); // friction 1 is Gym's model exactly
        for (int g = 0; g < f1.Length / 3; g++)
        {
            Assert.Equal(0.25 * f1[3 * g], f2[3 * g]);
            Assert.Equal(f1[3 * g + 1], f2[3 * g + 1]); // torsional and rolling friction stay
            Assert.Equal(f1[3 * g + 2], f2[3 * g + 2]);
        }
        slippery.Friction = 1.0;
        Assert.Equal(f1, slippery.Model.GeomFriction.ToArray());
    }

    /// <summary>
    /// Gym's health ranges, open intervals: the step after the state leaves them terminates; HalfCheetah never does.
    /// (The lower height bounds are not set by hand here: a lowered torso puts the foot deep into the floor.)
    /// </summary>
    [Theory]
    [InlineData(EnvRegistry.Hopper, 2, 0.21, true)]
    [InlineData(EnvRegistry.Hopper, 2, -0.21, true)]
    [InlineData(EnvRegistry.Hopper, 2, 0.1, false)]
    [InlineData(EnvRegistry.Walker2d, 1, 2.01, true)]
    [InlineData(EnvRegistry.Walker2d, 2, -1.01, true)]
    [InlineData(EnvRegistry.Walker2d, 2, 0.5, false)]
    [InlineData(EnvRegistry.HalfCheetah, 1, -3.0, false)]
    [InlineData(EnvRegistry.HalfCheetah, 2, 3.0, false)]
    public void TerminatesOutsideGymsHealthyRanges(string id, int qposIndex, double value, bool terminates)
    {
        using var env = (PlanarMuJoCoEnv)EnvRegistry.Create(Config(id) with { ResetNoise = 0 }, seed: 1, index: 0, friction: 1.0);
        env.Data.Qpos[qposIndex] = value;
        // A step moves the state by well under 0.01 from rest with zero actions.
        var r = env.Step(new float[env.ActionSize], new float[env.ObservationSize]);
        Assert.Equal(terminates, r.Terminated);
        Assert.False(r.Truncated);
    }

    [Fact]
    public void HopperTerminatesOnAFastStateAndTheVelocityObservationIsClipped()
    {
        using var env = (PlanarMuJoCoEnv)EnvRegistry.Create(Config(EnvRegistry.Hopper) with { ResetNoise = 0 }, seed: 1, index: 0, friction: 1.0);
        env.Data.Qvel[0] = 150; // sliding along x, undamped, the foot still above the floor: outside (-100, 100)
        var obs = new float[11];
        Assert.True(env.Step(new float[3], obs).Terminated);
        Assert.Equal(10f, obs[5]); // qvel[0] observed clipped to 10

        using var walker = (PlanarMuJoCoEnv)EnvRegistry.Create(Config(EnvRegistry.Walker2d) with { ResetNoise = 0 }, seed: 1, index: 0, friction: 1.0);
        walker.Data.Qvel[0] = 150; // Walker2d checks only height and pitch
        var walkerObs = new float[17];
        Assert.False(walker.Step(new float[6], walkerObs).Terminated);
        Assert.Equal(10f, walkerObs[8]);
    }

    [Fact]
    public void HalfCheetahEndsOnlyAtTheTimeLimitWithNoHealthyReward()
    {
        using var env = EnvRegistry.Create(Config(EnvRegistry.HalfCheetah) with { MaxEpisodeSteps = 3, ResetNoise = 0 }, seed: 1, index: 0, friction: 1.0);
        var obs = new float[17];
        var zero = new float[6];
        var first = env.Step(zero, obs);
        Assert.False(first.Terminated || first.Truncated);
        Assert.True(Math.Abs(first.Reward) < 0.5, $"at rest with no action the reward is the forward velocity only, got {first.Reward}");
        Assert.False(env.Step(zero, obs).Truncated);
        var third = env.Step(zero, obs);
        Assert.True(third.Truncated);
        Assert.False(third.Terminated);
    }

    [Theory]
    [InlineData(EnvRegistry.Hopper)]
    [InlineData(EnvRegistry.Walker2d)]
    [InlineData(EnvRegistry.HalfCheetah)]
    public void VectorEnvSavesAndResumesBitForBit(string id)
    {
        var config = Config(id) with { MaxEpisodeSteps = 25 };
        var friction = FrictionConfig.Nature2024 with { ChangeEverySteps = 60 };
        using var original = new VectorEnv(3, config, friction, seed: 21, threads: 2);
        int n = 3 * original.ActionSize;
        var rng = new Rng(13, 0);
        float[] Actions(ref Rng g)
        {
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float)g.Uniform(-1, 1);
            return a;
        }
        for (int t = 0; t < 17; t++) original.Step(Actions(ref rng));
        var saved = new MemoryStream();
        using (var w = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) original.SaveState(w);

        using var resumed = new VectorEnv(3, config, friction, seed: 999, threads: 1);
        saved.Position = 0;
        resumed.LoadState(new BinaryReader(saved));
        int ended = 0;
        for (int t = 0; t < 60; t++)
        {
            var actions = Actions(ref rng);
            original.Step(actions);
            resumed.Step(actions);
            VectorEnvAssert.SameStepOutputs(original, resumed);
            ended += original.Terminated.Count(x => x) + original.Truncated.Count(x => x);
        }
        Assert.True(ended >= 3, "episodes should end after the resume");

        // Another env's state is refused, naming both.
        using var ant = new VectorEnv(3, EnvConfig.Nature2024 with { MaxEpisodeSteps = 25 }, friction, seed: 21, threads: 1);
        saved.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => ant.LoadState(new BinaryReader(saved)));
        Assert.Contains(id, e.Message);
        Assert.Contains("of ant", e.Message);
    }

    /// <summary>
    /// A checkpoint's envs block from before envs were a registry (version 1: the MuJoCo Ant's settings with no env name,
    /// state version or action size) still loads and resumes exactly like the same state written today.
    /// </summary>
    [Fact]
    public void TheAntsVersion1StateStillLoads()
    {
        var config = EnvConfig.Nature2024 with { MaxEpisodeSteps = 15 };
        var friction = FrictionConfig.Nature2024 with { ChangeEverySteps = 50 };
        using var original = new VectorEnv(2, config, friction, seed: 4, threads: 1);
        var rng = new Rng(2, 0);
        var actions = new float[16];
        for (int t = 0; t < 9; t++)
        {
            for (int i = 0; i < 16; i++) actions[i] = (float)rng.Uniform(-1, 1);
            original.Step(actions);
        }
        var today = new MemoryStream();
        using (var w = new BinaryWriter(today, System.Text.Encoding.UTF8, leaveOpen: true)) original.SaveState(w);

        // Rewrite today's header in the version-1 layout: envs, obs size, obs kind, episode cap, reset noise, then the friction settings.
        today.Position = 0;
        var r3 = new BinaryReader(today);
        Assert.Equal("ant", r3.ReadString());
        Assert.Equal(1, r3.ReadInt32());
        int envs = r3.ReadInt32(), obs = r3.ReadInt32(), actionSize = r3.ReadInt32(), kind = r3.ReadInt32(), max = r3.ReadInt32();
        double noise = r3.ReadDouble();
        Assert.Equal((int)PhysicsEngine.MuJoCo, r3.ReadInt32());
        Assert.Equal(8, actionSize);
        var v1 = new MemoryStream();
        using (var w = new BinaryWriter(v1, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(envs);
            w.Write(obs);
            w.Write(kind);
            w.Write(max);
            w.Write(noise);
            today.CopyTo(v1); // friction settings, step count, schedule, envs, observations: unchanged
        }

        using var resumed = new VectorEnv(2, config, friction, seed: 77, threads: 1);
        v1.Position = 0;
        resumed.LoadState(new BinaryReader(v1), version: 1);
        Assert.Equal(original.Observations, resumed.Observations);
        for (int t = 0; t < 30; t++)
        {
            for (int i = 0; i < 16; i++) actions[i] = (float)rng.Uniform(-1, 1);
            original.Step(actions);
            resumed.Step(actions);
            VectorEnvAssert.SameStepOutputs(original, resumed);
        }
    }
}
