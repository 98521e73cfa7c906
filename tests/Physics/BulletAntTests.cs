using CbpGpu.Physics;
using CbpGpu.Runner.Cli;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// The Bullet Ant (docs/bullet-ant.md) through the real shim and libbullet, against values derived by hand from
/// PyBullet's build rules: density-1000 masses, box inertias of the inflated AABB, float32-parsed sizes and limits.
/// </summary>
public sealed class BulletAntTests
{
    private static readonly EnvConfig Config = new(Engine: PhysicsEngine.Bullet);
    private static readonly EnvConfig Rest = Config with { ResetNoise = 0 };

    // Bullet's btMultibodyLink joint types.
    private const int Revolute = 0, Fixed = 4;

    private static double CapsuleMass(double r, double length) => 1000 * (4.0 / 3.0 * Math.PI * r * r * r + Math.PI * r * r * length);

    [Fact]
    public void MassesAndInertiasAreTheTableOfDocs()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        double[] l = ant.ReadLinks();
        (double M, double I0, double I1, double I2) torso = (65.449847, 1.636246, 1.636246, 1.636246);
        (double M, double I0, double I1, double I2) link = (7.831550, 0.163940, 0.163940, 0.252698);
        (double M, double I0, double I1, double I2) foot = (13.518440, 0.526318, 0.526318, 0.922859);
        (double M, double I0, double I1, double I2) none = (0, 0, 0, 0);
        var expected = new[] { torso };
        for (int k = 0; k < 4; k++) expected = [.. expected, link, none, link, none, foot];
        for (int b = 0; b <= BulletAnt.Links; b++)
        {
            var e = expected[b];
            var o = l.AsSpan(b * BulletAnt.LinkFields);
            Assert.Equal(e.M, o[0], 6);
            Assert.Equal(e.I0, o[1], 6);
            Assert.Equal(e.I1, o[2], 6);
            Assert.Equal(e.I2, o[3], 6);
        }
        Assert.Equal(182.176, Enumerable.Range(0, 21).Sum(b => l[b * BulletAnt.LinkFields]), 3);
    }

    [Fact]
    public void SizesAreParsedAsFloat32()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        double[] l = ant.ReadLinks();
        double r = 0.08f, leg = Math.Sqrt(2.0 * (double)0.2f * 0.2f);
        Assert.Equal(CapsuleMass(r, leg), l[1 * BulletAnt.LinkFields], 12);
        Assert.NotEqual(CapsuleMass(0.08, 0.2 * Math.Sqrt(2)), l[1 * BulletAnt.LinkFields], 12);
    }

    [Fact]
    public void LinksComeInPyBulletsOrderWithFloat32Limits()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        double[] l = ant.ReadLinks();
        static double Rad(float deg) => deg * MathF.PI / 180f;
        float[][] ankles = [[30, 100], [-100, -30], [-100, -30], [30, 100]];
        double[][] ankleAxes = [[-1, 1, 0], [1, 1, 0], [-1, 1, 0], [1, 1, 0]];
        for (int k = 0; k < 4; k++)
        {
            int b = 5 * k;
            int[] parents = [-1, b, b + 1, b + 2, b + 3];
            int[] types = [Fixed, Revolute, Fixed, Revolute, Fixed];
            for (int i = 0; i < 5; i++)
            {
                var o = l.AsSpan((b + i + 1) * BulletAnt.LinkFields, BulletAnt.LinkFields);
                Assert.Equal(parents[i], o[4]);
                Assert.Equal(types[i], o[5]);
            }
            var hip = l.AsSpan((b + 2) * BulletAnt.LinkFields, BulletAnt.LinkFields);
            Assert.Equal([0.0, 0, 1, Rad(-40), Rad(40)], hip[6..].ToArray());
            var ankle = l.AsSpan((b + 4) * BulletAnt.LinkFields, BulletAnt.LinkFields);
            Assert.Equal([.. ankleAxes[k], Rad(ankles[k][0]), Rad(ankles[k][1])], ankle[6..].ToArray());
        }
    }

    private static double[] Base(double x, double y, double z, double yaw, double vx = 0, double vy = 0, double vz = 0) =>
        [x, y, z, 0, 0, Math.Sin(yaw / 2), Math.Cos(yaw / 2), vx, vy, vz, 0, 0, 0];

    [Fact]
    public void ObservationOfAHandSetState()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        double yaw = 0.3;
        double[] q = [0.1, 0.8, -0.2, -0.9, 0.3, -1.0, 0.0, 1.2];
        double[] qd = [1, -2, 3, -4, 5, -6, 7, 100];
        ant.SetState(Base(1, 2, 0.6, yaw, 1, 2, 3), q, qd);
        var obs = new float[28];
        ant.WriteObservation(obs);

        // Link 0 (front_left_leg) has its centre of mass at the capsule's midpoint, 0.1 (float 0.2 / 2) along x and y.
        double[] p = ant.ReadLinkPositions();
        double m = 0.5 * 0.2f;
        Assert.Equal(1 + Math.Cos(yaw) * m - Math.Sin(yaw) * m, p[0], 12);
        Assert.Equal(2 + Math.Sin(yaw) * m + Math.Cos(yaw) * m, p[1], 12);
        // The parts mean: the 20 links, the torso and the floor at the origin, over 22.
        double bx = (Enumerable.Range(0, 20).Sum(i => p[3 * i]) + 1) / 22, by = (Enumerable.Range(0, 20).Sum(i => p[3 * i + 1]) + 2) / 22;
        double angle = Math.Atan2(-by, 1000 - bx) - yaw;

        Assert.Equal((float)(0.6 - 0.75), obs[0]);
        Assert.Equal((float)Math.Sin(angle), obs[1], 6);
        Assert.Equal((float)Math.Cos(angle), obs[2], 6);
        Assert.Equal((float)(0.3 * (Math.Cos(yaw) * 1 + Math.Sin(yaw) * 2)), obs[3], 6);
        Assert.Equal((float)(0.3 * (-Math.Sin(yaw) * 1 + Math.Cos(yaw) * 2)), obs[4], 6);
        Assert.Equal(0.9f, obs[5], 6);
        Assert.Equal(0f, obs[6], 6);
        Assert.Equal(0f, obs[7], 6);
        float[][] ranges = [[-40, 40], [30, 100], [-40, 40], [-100, -30], [-40, 40], [-100, -30], [-40, 40], [30, 100]];
        for (int j = 0; j < 8; j++)
        {
            double lo = ranges[j][0] * MathF.PI / 180f, hi = ranges[j][1] * MathF.PI / 180f;
            Assert.Equal(Math.Clamp((float)(2 * (q[j] - 0.5 * (lo + hi)) / (hi - lo)), -5f, 5f), obs[8 + 2 * j]);
            Assert.Equal(Math.Clamp((float)(0.1 * qd[j]), -5f, 5f), obs[9 + 2 * j]);
        }
        Assert.Equal(5f, obs[23]); // 0.1 x 100 clipped to 5
        Assert.Equal([0f, 0, 0, 0], obs[24..]);
    }

    [Fact]
    public void RewardTermsOfAStep()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        ant.SetState(Base(0, 0, 0.75, 0, vx: 2), new double[8], new double[8]);
        double[] before = ant.ReadLinkPositions();
        float[] a = [0.5f, -1f, 0.25f, 1f, -0.5f, 0f, 0.75f, -0.25f];
        var obs = new float[28];
        var r = ant.Step(a, obs);
        var t = ant.RewardTerms.ToArray();

        Assert.Equal(1.0, t[0]); // torso at ~0.75 > 0.26
        // Progress: potential -distance/0.0165 after minus before, distances from the parts means.
        double Potential(double[] links, double tx, double ty)
        {
            double x = (Enumerable.Range(0, 20).Sum(i => links[3 * i]) + tx) / 22, y = (Enumerable.Range(0, 20).Sum(i => links[3 * i + 1]) + ty) / 22;
            return -Math.Sqrt(y * y + (1000 - x) * (1000 - x)) / 0.0165;
        }
        var bs = new double[13];
        ant.GetState(bs, new double[8], new double[8]);
        Assert.Equal(Potential(ant.ReadLinkPositions(), bs[0], bs[1]) - Potential(before, 0, 0), t[1], 6);
        Assert.True(t[1] > 0, $"moving towards the target at 2 m/s makes progress, got {t[1]}");
        float power = 0, square = 0;
        for (int j = 0; j < 8; j++)
        {
            power += Math.Abs(a[j] * obs[9 + 2 * j]);
            square += a[j] * a[j];
        }
        Assert.Equal(-2.0 * power / 8 - 0.1 * square / 8, t[2], 5);
        Assert.Equal(-0.4, t[3], 12); // the four ankles start 30 degrees outside their ranges
        Assert.Equal(t[0] + t[1] + t[2] + t[3], r.Reward);
        Assert.False(r.Terminated);
    }

    [Fact]
    public void TorsoBelowTheAliveHeightTerminates()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        ant.SetState(Base(0, 0, 0.25, 0), new double[8], new double[8]);
        var r = ant.Step(new float[8], new float[28]);
        Assert.Equal(-1.0, ant.RewardTerms[0]);
        Assert.True(r.Terminated);
    }

    [Fact]
    public void ZeroActionKeepsTheAnklesOutOfRangeAndTheTorsoFallsToTheFloor()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        var obs = new float[28];
        int steps = 0;
        StepResult r;
        do
        {
            r = ant.Step(new float[8], obs);
            steps++;
            for (int k = 0; k < 4; k++) Assert.True(Math.Abs(obs[10 + 4 * k]) > 1, $"ankle {k + 1} inside its range at step {steps}");
        } while (!r.Terminated && steps < 100);
        Assert.True(r.Terminated);
        Assert.InRange(steps, 18, 22);
        Assert.True(obs[0] + 0.75 <= 0.26);
    }

    [Fact]
    public void FootFlagsLagOneStep()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        // Ankles bent down to mid-range so the feet reach the floor while the torso is still up.
        ant.SetState(Base(0, 0, 0.75, 0), [0, 1.134, 0, -1.134, 0, -1.134, 0, 1.134], new double[8]);
        var obs = new float[28];
        float[] previous = [0, 0, 0, 0];
        bool touched = false;
        for (int s = 0; s < 40; s++)
        {
            ant.Step(new float[8], obs);
            Assert.Equal(previous, obs[24..]);
            previous = ant.ReadFootContacts();
            touched |= previous.Contains(1f);
        }
        Assert.True(touched, "no foot touched the floor in 40 steps");
    }

    [Fact]
    public void FrictionSetsTheFloorAndNotTheAnt()
    {
        using var ant = new BulletAnt(Config, seed: 0, friction: 0.01);
        double[] f = ant.ReadFrictions();
        Assert.Equal(0.01, f[0]);
        // The torso and the capsules keep the file's 1.5; the massless hinge links (1 and 3 of each leg) have no geom, so
        // PyBullet's importer leaves btCollisionObject's default 0.5 (docs/bullet-ant.md#model).
        for (int b = 1; b < f.Length; b++) Assert.Equal(b >= 2 && (b - 2) % 5 is 1 or 3 ? 0.5 : 1.5, f[b]);
        ant.Friction = 3;
        Assert.Equal(3, ant.ReadFrictions()[0]);
    }

    [Fact]
    public void LinkPositionsAreOneSubstepOld()
    {
        using var ant = new BulletAnt(Rest, seed: 0);
        ant.SetState(Base(0, 0, 0.75, 0, vx: 1), new double[8], new double[8]);
        ant.Step([1, 1, 1, 1, 1, 1, 1, 1], new float[28]);
        double[] read = ant.ReadLinkPositions();
        var (b, q, qd) = (new double[13], new double[8], new double[8]);
        ant.GetState(b, q, qd);
        ant.SetState(b, q, qd); // recomputes the links from the current state
        double[] current = ant.ReadLinkPositions();
        // Moving at ~1 m/s, a 0.004125 s substep shifts x by ~4 mm.
        Assert.InRange(current[0] - read[0], 0.002, 0.006);
    }

    [Fact]
    public void FloorFrictionChangesTheTrajectory()
    {
        float[] Run(double friction)
        {
            using var ant = new BulletAnt(Config, seed: 3, friction: friction);
            var obs = new float[28];
            var a = new float[8];
            for (int s = 0; s < 30; s++)
            {
                for (int k = 0; k < 8; k++) a[k] = MathF.Sin(0.3f * s + k);
                ant.Step(a, obs);
            }
            return obs;
        }
        Assert.NotEqual(Run(0.8), Run(1e-4));
    }

    private static float[] RunVector(int threads, PhysicsEngine engine)
    {
        using var vec = new VectorEnv(4, new EnvConfig(Engine: engine, MaxEpisodeSteps: 50), FrictionConfig.Constant(0.8), seed: 7, threads);
        var rng = new Rng(1, 0);
        var a = new float[4 * 8];
        var all = new List<float>();
        for (int s = 0; s < 120; s++)
        {
            for (int i = 0; i < a.Length; i++) a[i] = (float)rng.Uniform(-1, 1);
            vec.Step(a);
            all.AddRange(vec.Observations);
            all.AddRange(vec.Rewards);
        }
        return [.. all];
    }

    [Fact]
    public void OneSeedGivesByteIdenticalRunsWhateverTheThreads()
    {
        float[] one = RunVector(1, PhysicsEngine.Bullet);
        Assert.Equal(one, RunVector(1, PhysicsEngine.Bullet));
        Assert.Equal(one, RunVector(2, PhysicsEngine.Bullet));
        Assert.NotEqual(one, RunVector(1, PhysicsEngine.BulletFixed));
    }

    /// <summary>Steps with actions from <paramref name="actions"/>, resetting where an episode ends; obs and reward bits of every step.</summary>
    private static List<float> Drive(BulletAnt ant, ref Rng actions, int steps)
    {
        var all = new List<float>();
        var obs = new float[28];
        var a = new float[8];
        for (int s = 0; s < steps; s++)
        {
            for (int k = 0; k < 8; k++) a[k] = (float)actions.Uniform(-1.2, 1.2);
            var r = ant.Step(a, obs);
            all.AddRange(obs);
            all.Add((float)r.Reward);
            all.Add(r.Terminated || r.Truncated ? 1 : 0);
            if (r.Terminated || r.Truncated) ant.Reset(obs);
        }
        return all;
    }

    private static byte[] Saved(BulletAnt ant)
    {
        var state = new MemoryStream();
        using (var w = new BinaryWriter(state)) ant.WriteState(w);
        return state.ToArray();
    }

    private static void Load(BulletAnt ant, byte[] state) => ant.ReadState(new BinaryReader(new MemoryStream(state)));

    [Fact]
    public void AResetForgetsAllOfBulletsHistory()
    {
        // An ant with a past (several episodes, terminations, truncations, other frictions) and a fresh one, both reset
        // from the same RNG state: every later step is the same to the bit. If a reset kept contact manifolds, their
        // warm-start impulses or anything else of the past, the old ant would drift from the fresh one.
        var config = Config with { MaxEpisodeSteps = 150 };
        using var old = new BulletAnt(config, seed: 2, friction: 0.05);
        var actions = new Rng(5, 0);
        for (int e = 0; e < 6; e++)
        {
            old.Friction = e % 2 == 0 ? 0.05 : 2.0;
            Drive(old, ref actions, 120);
        }
        Assert.True(old.EpisodeLength > 0, "the old ant should be mid-episode before its reset");
        old.Friction = 0.8;
        old.Reset(Span<float>.Empty);
        byte[] atReset = Saved(old);

        using var fresh = new BulletAnt(config, seed: 99, friction: 3.0);
        Load(fresh, atReset);
        var (o1, o2) = (new float[28], new float[28]);
        old.WriteObservation(o1);
        fresh.WriteObservation(o2);
        Assert.Equal(o1, o2);
        var (a1, a2) = (new Rng(6, 0), new Rng(6, 0));
        List<float> oldRun = Drive(old, ref a1, 400), freshRun = Drive(fresh, ref a2, 400);
        Assert.True(oldRun.Where((_, i) => i % 30 == 29).Count(ended => ended == 1) >= 2, "expected episodes to end and reset within 400 steps");
        Assert.Equal(oldRun, freshRun);
    }

    [Fact]
    public void AMidEpisodeStateReplaysToTheSameBits()
    {
        using var ant = new BulletAnt(Config, seed: 4, friction: 0.8);
        var actions = new Rng(8, 0);
        Drive(ant, ref actions, 37);
        ant.Friction = 0.01;
        Drive(ant, ref actions, 23);
        ant.Friction = 5;
        ant.Friction = 0.3; // a second set before the same step replaces the first
        Drive(ant, ref actions, 11);
        Assert.Equal(71, ant.EpisodeLength);
        byte[] state = Saved(ant);

        using var resumed = new BulletAnt(Config, seed: 1, friction: 1.0);
        Load(resumed, state);
        Assert.Equal(state, Saved(resumed));
        Assert.Equal(0.3, resumed.Friction);
        Assert.Equal(ant.EpisodeLength, resumed.EpisodeLength);
        Assert.Equal(ant.EpisodeReturn, resumed.EpisodeReturn);
        var (a1, a2) = (new Rng(9, 0), new Rng(9, 0));
        Assert.Equal(Drive(ant, ref a1, 300), Drive(resumed, ref a2, 300));
    }

    [Fact]
    public void AReplayThatMissesTheSavedStateIsRefused()
    {
        using var ant = new BulletAnt(Config, seed: 4);
        var actions = new Rng(8, 0);
        Drive(ant, ref actions, 30);
        Assert.Equal(30, ant.EpisodeLength);
        byte[] state = Saved(ant);
        // RNG (32 bytes), friction (8), length (4), no friction set (4), then the actions: nudge the first one.
        Assert.Equal(0, BitConverter.ToInt32(state, 44));
        float first = BitConverter.ToSingle(state, 48);
        BitConverter.GetBytes(first + 1e-3f).CopyTo(state, 48);
        using var other = new BulletAnt(Config, seed: 1);
        var e = Assert.Throws<InvalidDataException>(() => Load(other, state));
        Assert.Contains("did not reach the saved return and state", e.Message);
        Assert.Contains("not the one that wrote the checkpoint", e.Message);
    }

    [Fact]
    public void AVectorEnvResumesMidEpisodeAcrossAFrictionChange()
    {
        // Seed2023's clock every 100 summed steps (25 vector steps): the checkpoint at vector step 70 has every env
        // mid-episode, with friction changes in their logs; the resumed env then goes on exactly as the original.
        var friction = FrictionConfig.Seed2023 with { ChangeEverySteps = 100, Log10Min = -1, Log10Max = 0.5 };
        var ant = Config with { MaxEpisodeSteps = 90 };
        using var original = new VectorEnv(4, ant, friction, seed: 3, threads: 2);
        var actions = new Rng(2, 0);
        var a = new float[4 * 8];
        void Step(VectorEnv v, ref Rng rng)
        {
            for (int i = 0; i < a.Length; i++) a[i] = (float)rng.Uniform(-1, 1);
            v.Step(a);
        }
        for (int s = 0; s < 70; s++) Step(original, ref actions);
        Assert.All(Enumerable.Range(0, 4), i => Assert.InRange(original.GetEnv(i).EpisodeLength, 1, 89));
        var state = new MemoryStream();
        using (var w = new BinaryWriter(state, System.Text.Encoding.UTF8, leaveOpen: true)) original.SaveState(w);

        using var resumed = new VectorEnv(4, ant, friction, seed: 3, threads: 1);
        state.Position = 0;
        resumed.LoadState(new BinaryReader(state));
        Assert.Equal(original.Observations, resumed.Observations);
        Assert.Equal(original.Frictions, resumed.Frictions);
        var (r1, r2) = (new Rng(3, 0), new Rng(3, 0));
        int ended = 0;
        for (int s = 0; s < 160; s++)
        {
            Step(original, ref r1);
            Step(resumed, ref r2);
            VectorEnvAssert.SameStepOutputs(original, resumed);
            ended += original.Terminated.Count(t => t) + original.Truncated.Count(t => t);
        }
        Assert.True(ended >= 4, $"expected episodes to end after the resume, {ended} did");
    }

    [Fact]
    public void AMuJoCoStateIsNotABulletOne()
    {
        using var mujoco = new VectorEnv(2, new EnvConfig(), FrictionConfig.Constant(0.8), seed: 1, threads: 1);
        using var bullet = new VectorEnv(2, Config, FrictionConfig.Constant(0.8), seed: 1, threads: 1);
        Assert.Equal((1, 3), (mujoco.GetEnv(0).StateVersion, bullet.GetEnv(0).StateVersion));
        var state = new MemoryStream();
        using (var w = new BinaryWriter(state, System.Text.Encoding.UTF8, leaveOpen: true)) bullet.SaveState(w);
        using var fixedQuirks = new VectorEnv(2, Config with { Engine = PhysicsEngine.BulletFixed }, FrictionConfig.Constant(0.8), seed: 1, threads: 1);
        state.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => fixedQuirks.LoadState(new BinaryReader(state)));
        Assert.Contains("saved with other settings (Bullet: 2 envs", e.Message);
    }

    [Fact]
    public void ReplayPrintsRewardTerminatedAnd28Floats()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(file, Enumerable.Repeat("0,0,0,0,0,0,0,0", 40));
            var output = new StringWriter();
            Assert.Equal(0, RunnerCommandLine.Invoke(["replay", "--engine", "bullet", "--friction", "0.8", "--actions", file], output, TextWriter.Null));
            string[] lines = output.ToString().TrimEnd().Split('\n');
            Assert.InRange(lines.Length, 18, 22); // stops at the first termination (the torso reaches the floor)
            Assert.All(lines, l => Assert.Equal(30, l.Split(',').Length));
            Assert.EndsWith(",1", string.Join(',', lines[^1].Split(',')[..2]));
            Assert.StartsWith("0.6,0,", lines[0]); // alive 1 + limits -0.4, nothing else at rest with zero action
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ObsIsRefusedWithBullet()
    {
        var error = new StringWriter();
        Assert.Equal(2, RunnerCommandLine.Invoke(["replay", "--engine", "bullet", "--obs", "27", "--friction", "1", "--actions", "x"], TextWriter.Null, error));
        Assert.Contains("--obs applies to --engine mujoco only", error.ToString());
    }
}
