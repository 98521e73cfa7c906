using Xunit;
using CbpGpu.Physics;

namespace CbpGpu.Tests.Physics;

public class SlipperyAntTests
{
    private static readonly float[] Gait = [0.5f, -0.75f, 1.0f, 0.25f, -0.5f, 0.875f, -1.0f, 0.125f];

    private static float[] ActionAt(int t) =>
        Enumerable.Range(0, 8).Select(k => (float)Math.Round(Math.Sin(0.4 * t + k) * 256) / 256).ToArray();

    [Fact]
    public void RewardOfOneStepMatchesTheTermsComputedByHand()
    {
        using var ant = new SlipperyAnt(new EnvConfig(), seed: 7);
        var obs = new float[ant.ObservationSize];
        for (int t = 0; t < 10; t++) ant.Step(ActionAt(t), obs); // get moving and touch the ground
        double xBefore = ant.Data.Xpos[3 * SlipperyAnt.TorsoBody];
        float[] a = [1.5f, -0.25f, 0.5f, -1.25f, 0f, 0.75f, -0.5f, 1f]; // two beyond ctrlrange: cost uses them as given
        var r = ant.Step(a, obs);
        double xAfter = ant.Data.Xpos[3 * SlipperyAnt.TorsoBody];
        double sumSq = a.Sum(v => (double)v * v);
        double expected = (xAfter - xBefore) / 0.05 + 1.0 - 0.5 * sumSq; // cfrc_ext is zero under plain mj_step
        Assert.Equal(5.9375, sumSq);
        Assert.Equal(expected, r.Reward, 12);
        Assert.NotEqual(xBefore, xAfter);
        Assert.True(ant.Data.CfrcExt.ToArray().All(v => v == 0));
        // MuJoCo clamps ctrl to ctrlrange inside the step, but the env wrote the unclipped action.
        Assert.Equal(1.5, ant.Data.Ctrl[0]);
    }

    [Fact]
    public void RealContactRewardSubtractsTheClippedContactForcesItObserves()
    {
        using var ant = new SlipperyAnt(new EnvConfig(ObservationKind.RealContact), seed: 7);
        var obs = new float[111];
        // The ant bounces, so feet touch the floor only at some steps: check the first step that ends in contact.
        for (int t = 0; t < 100; t++)
        {
            double xBefore = ant.Data.Xpos[3 * SlipperyAnt.TorsoBody];
            var a = ActionAt(t);
            var r = ant.Step(a, obs);
            double xAfter = ant.Data.Xpos[3 * SlipperyAnt.TorsoBody];
            double[] cfrc = ant.Data.CfrcExt.ToArray();
            double contact = cfrc.Sum(c => Math.Clamp(c, -1, 1) * Math.Clamp(c, -1, 1));
            for (int i = 0; i < 84; i++) Assert.Equal((float)Math.Clamp(cfrc[i], -1, 1), obs[27 + i]);
            double expected = (xAfter - xBefore) / 0.05 + 1.0 - 0.5 * a.Sum(v => (double)v * v) - 5e-4 * contact;
            Assert.Equal(expected, r.Reward, 12);
            if (contact > 0) return;
        }
        Assert.Fail("no step of 100 ended with a foot on the floor");
    }

    [Fact]
    public void ObservationIsQposWithoutXYThenQvelThenClippedContactForces()
    {
        foreach (var kind in new[] { ObservationKind.Standard, ObservationKind.NoContact, ObservationKind.RealContact })
        {
            using var ant = new SlipperyAnt(new EnvConfig(kind), seed: 3);
            var obs = new float[ant.ObservationSize];
            Assert.Equal(kind == ObservationKind.NoContact ? 27 : 111, obs.Length);
            for (int t = 0; t < 5; t++) ant.Step(ActionAt(t), obs);
            var qpos = ant.Data.Qpos; var qvel = ant.Data.Qvel;
            for (int i = 0; i < 13; i++) Assert.Equal((float)qpos[2 + i], obs[i]);
            for (int i = 0; i < 14; i++) Assert.Equal((float)qvel[i], obs[13 + i]);
            if (kind == ObservationKind.Standard) Assert.True(obs.Skip(27).All(v => v == 0));
        }
    }

    [Fact]
    public void ResetAddsBoundedUniformPositionNoiseAndGaussianVelocityNoise()
    {
        var qpos0 = new double[] { 0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        var dq = new List<double>();
        var v = new List<double>();
        using var ant = new SlipperyAnt(new EnvConfig(), seed: 11);
        for (int e = 0; e < 200; e++)
        {
            ant.Reset(Span<float>.Empty);
            for (int i = 0; i < 15; i++) dq.Add(ant.Data.Qpos[i] - qpos0[i]);
            v.AddRange(ant.Data.Qvel.ToArray());
            var q = ant.Data.Qpos[3..7];
            Assert.Equal(1.0, q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3], 12);
            Assert.NotEqual(0.0, q[1]);
            Assert.Equal(0, ant.EpisodeLength);
        }
        // The free joint's quaternion (qpos[3..7)) is renormalised by mj_forward, as in Gym; the other 11
        // coordinates keep their U(-0.1, 0.1) offsets.
        var plain = dq.Where((_, k) => k % 15 is < 3 or >= 7).ToList();
        Assert.All(plain, d => Assert.InRange(d, -0.1, 0.1));
        Assert.InRange(plain.Max(), 0.099, 0.1);        // 2200 draws reach both ends
        Assert.InRange(plain.Min(), -0.1, -0.099);
        double mean = v.Average(), sd = Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
        Assert.InRange(mean, -0.01, 0.01);            // 2800 draws of 0.1 N(0,1): sd of the mean 0.0019
        Assert.InRange(sd, 0.095, 0.105);              // sd of the sd ~0.0013
        using var quiet = new SlipperyAnt(new EnvConfig(ResetNoise: 0), seed: 11);
        Assert.Equal(qpos0, quiet.Data.Qpos.ToArray());
        Assert.True(quiet.Data.Qvel.ToArray().All(x => x == 0));
    }

    [Fact]
    public void TerminatesAboveTheUpperHeightBound()
    {
        using var ant = new SlipperyAnt(new EnvConfig(ResetNoise: 0), seed: 1);
        var obs = new float[111];
        ant.Data.Qvel[2] = 10; // thrown up: 0.75 + 10 * 0.05 - g/2 * 0.05^2 > 1
        var r = ant.Step(new float[8], obs);
        Assert.True(ant.Data.Qpos[2] > 1.0);
        Assert.True(r.Terminated);
        Assert.False(r.Truncated);
    }

    [Fact]
    public void TerminatesBelowTheLowerHeightBound()
    {
        using var ant = new SlipperyAnt(new EnvConfig(ResetNoise: 0), seed: 1);
        var obs = new float[111];
        ant.Data.Qvel[2] = -100; // slammed into the floor: soft contacts let the torso sink below 0.2
        var r = ant.Step(new float[8], obs);
        Assert.True(ant.Data.Qpos[2] < 0.2, $"z = {ant.Data.Qpos[2]}");
        Assert.True(r.Terminated);
    }

    [Fact]
    public void StaysHealthyInsideTheBounds()
    {
        using var ant = new SlipperyAnt(new EnvConfig(ResetNoise: 0), seed: 1);
        var obs = new float[111];
        ant.Data.Qvel[2] = 4; // up to about 0.94 after one step: high but healthy
        var r = ant.Step(new float[8], obs);
        Assert.InRange(ant.Data.Qpos[2], 0.9, 1.0);
        Assert.False(r.Terminated);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(500)]
    public void TruncatesAfterMaxEpisodeSteps(int max)
    {
        var config = max == 500 ? EnvConfig.Seed2023 : EnvConfig.Nature2024;
        Assert.Equal(max, config.MaxEpisodeSteps);
        using var ant = new SlipperyAnt(config, seed: 5);
        var obs = new float[111];
        var zero = new float[8];
        for (int t = 1; t < max; t++)
        {
            var r = ant.Step(zero, obs);
            Assert.False(r.Terminated || r.Truncated, $"ended early at step {t}");
        }
        var last = ant.Step(zero, obs);
        Assert.True(last.Truncated);
        Assert.False(last.Terminated);
        Assert.Equal(max, ant.EpisodeLength);
    }

    [Fact]
    public void LowerFrictionChangesTheTrajectoryOfTheSameActions()
    {
        using var grippy = new SlipperyAnt(new EnvConfig(), seed: 9, friction: 1.0);
        using var same = new SlipperyAnt(new EnvConfig(), seed: 9, friction: 1.0);
        using var slippery = new SlipperyAnt(new EnvConfig(), seed: 9, friction: 0.05);
        float[] o1 = new float[111], o2 = new float[111], o3 = new float[111];
        double x1 = 0, x3 = 0;
        for (int t = 0; t < 40; t++)
        {
            var a = ActionAt(t);
            x1 += grippy.Step(a, o1).Reward;
            same.Step(a, o2);
            x3 += slippery.Step(a, o3).Reward;
            Assert.Equal(o1, o2);
        }
        Assert.NotEqual(o1, o3);
        Assert.True(Math.Abs(grippy.Data.Qpos[0] - slippery.Data.Qpos[0]) > 1e-3, "torso x should differ by more than a millimetre");
        Assert.NotEqual(x1, x3);
    }

    [Fact]
    public void FrictionChangeTakesEffectOnTheNextPhysicsStepWithoutReloadingTheModel()
    {
        using var a = new SlipperyAnt(new EnvConfig(), seed: 4);
        using var b = new SlipperyAnt(new EnvConfig(), seed: 4);
        var model = b.Model.Ptr;
        float[] oa = new float[111], ob = new float[111];
        for (int t = 0; t < 20; t++) { a.Step(ActionAt(t), oa); b.Step(ActionAt(t), ob); }
        Assert.Equal(oa, ob);
        b.Friction = 0.02;
        Assert.Equal(model, b.Model.Ptr);
        for (int g = 0; g < b.Model.Ngeom; g++) Assert.Equal(0.02, b.Model.GeomFriction[3 * g]);
        Assert.Equal(1.0, a.Model.GeomFriction[0]); // each env owns its model copy
        a.Step(ActionAt(20), oa);
        b.Step(ActionAt(20), ob);
        Assert.NotEqual(oa, ob);
    }

    [Fact]
    public void NonFiniteActionsAreRejectedBeforeAnyPhysics()
    {
        using var ant = new SlipperyAnt(new EnvConfig(), seed: 2);
        double t0 = ant.Data.Time;
        var obs = new float[111];
        var e = Assert.Throws<ArgumentException>(() => ant.Step([0, 0, 0, float.NaN, 0, 0, 0, 0], obs));
        Assert.Contains("action[3]", e.Message);
        Assert.Throws<ArgumentException>(() => ant.Step([0, 0, 0, 0, 0, 0, 0, float.PositiveInfinity], obs));
        Assert.Equal(t0, ant.Data.Time);
        Assert.Equal(0, ant.EpisodeLength);
    }
}
