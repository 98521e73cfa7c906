using CbpGpu.Physics;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// PyBullet's contact order (docs/bullet-ant.md#contact-order): pybullet_envs sets deterministicOverlappingPairs=1, and
/// Bullet 3.24 then hands the solver only the manifolds that hold contact points, sorted by their bodies' broadphase
/// proxy uids (btSimulationIslandManager with btPersistentManifoldSortPredicateDeterministic). With several feet on
/// the floor the 5 solver iterations do not converge, so this order is part of the trajectory. The expected order is
/// computed here from the uids alone, apart from the shim: its recorder reports what the solver got, not what to expect.
/// </summary>
public sealed class BulletAntContactOrderTests
{
    private const int Feet = 4;
    // Link index of each foot (front_left, front_right, left_back, right_back), as docs/bullet-ant.md#model builds them.
    private static readonly int[] FootLink = [4, 9, 14, 19];

    [Fact]
    public void CollidersEnterTheBroadphaseInPyBulletsBuildOrder()
    {
        foreach (var engine in new[] { PhysicsEngine.Bullet, PhysicsEngine.BulletFixed })
        {
            using var ant = new BulletAnt(new EnvConfig(Engine: engine), seed: 0);
            int[] uids = ant.ReadProxyUids();
            // The floor first, then the torso, then links 0..19 depth first: strictly increasing uids.
            for (int i = 1; i < uids.Length; i++) Assert.True(uids[i] > uids[i - 1], $"collider {i} has uid {uids[i]} after {uids[i - 1]}");
        }
    }

    [Theory]
    [InlineData(PhysicsEngine.Bullet, 0.8)]
    [InlineData(PhysicsEngine.Bullet, 0.001)]
    [InlineData(PhysicsEngine.BulletFixed, 0.8)]
    public void TheSolverGetsTheTouchingManifoldsSortedByProxyUid(PhysicsEngine engine, double friction)
    {
        // Random actions in [-1, 1] as float32, as a policy emits them; no reset noise, as `replay` runs.
        using var ant = new BulletAnt(new EnvConfig(Engine: engine, ResetNoise: 0), seed: 0, friction: friction);
        int[] uids = ant.ReadProxyUids();
        int floor = uids[0];
        var rng = new Rng(23, 0);
        var obs = new float[BulletAnt.ObservationLength];
        var a = new float[8];
        int multiFootSteps = 0;
        for (int s = 0; s < 400; s++)
        {
            for (int k = 0; k < a.Length; k++) a[k] = (float)rng.Uniform(-1, 1);
            var step = ant.Step(a, obs);
            int[] m = ant.ReadSolverManifolds();
            int n = m.Length / BulletAnt.ManifoldFields;
            var got = new List<(int Uid0, int Uid1, int Part)>();
            for (int i = 0; i < n; i++)
            {
                var (uid0, uid1, points, part) = (m[4 * i], m[4 * i + 1], m[4 * i + 2], m[4 * i + 3]);
                Assert.True(points > 0, $"step {s}: a manifold without contact points (part {part}) reached the solver");
                // Each manifold pairs the part's collider with the floor's.
                Assert.Equal([floor, uids[1 + part]], new[] { uid0, uid1 }.Order());
                got.Add((uid0, uid1, part));
            }
            var expected = got.OrderBy(g => g.Uid0).ThenBy(g => g.Uid1).ToList();
            Assert.True(expected.SequenceEqual(got), $"step {s}: solver order {string.Join(' ', got.Select(g => g.Part))}, sorted by uid {string.Join(' ', expected.Select(g => g.Part))}");

            // The feet in the solver's list are those the contact flags report (both read the last substep's manifolds).
            float[] touching = ant.ReadFootContacts();
            for (int f = 0; f < Feet; f++) Assert.Equal(touching[f] == 1, got.Any(g => g.Part == 1 + FootLink[f]));
            if (touching.Count(t => t == 1) >= 2) multiFootSteps++;
            if (step.Terminated || step.Truncated) ant.Reset(obs);
        }
        Assert.True(multiFootSteps >= 20, $"only {multiFootSteps} of 400 steps had two or more feet on the floor");
    }
}
