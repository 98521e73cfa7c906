using CbpGpu.Physics;
using CbpGpu.Physics.Native;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// A Bullet Ant's pose put into the MuJoCo Ant's qpos (docs/render.md#bullet-runs) puts every body where Bullet has it:
/// MuJoCo's forward kinematics of the mapped qpos against the link positions the shim reports.
/// </summary>
public sealed class BulletRenderPoseTests
{
    // Bullet's capsule sizes are the MJCF's numbers parsed as float32 (0.2f - 0.2 = 3e-9), so a correct mapping puts
    // each body within about 1e-8 m of MuJoCo's, whose lengths are the same decimals in double; 1e-6 m leaves a
    // hundredfold margin for that and rounding. A wrong mapping (a joint in the wrong slot, a sign, the quaternion's
    // order) moves some body by centimetres: the angles below differ pairwise by more than 0.1 rad.
    private const double Tolerance = 1e-6;

    public static TheoryData<double[], double[]> Poses => new()
    {
        // Base position, quaternion x y z w (normalised below); joint angles in action order, inside Bullet's ranges
        // (hips -40..40 deg, ankles 30..100 on legs 1 and 4, -100..-30 on legs 2 and 3).
        { [0, 0, 0.75, 0, 0, 0, 1], [0.1, 0.6, -0.3, -0.9, 0.5, -1.4, -0.6, 1.2] },
        { [0.7, -0.4, 0.55, 0.1, -0.2, 0.3, 0.9], [-0.5, 1.6, 0.2, -0.55, -0.1, -1.1, 0.35, 0.7] },
        { [-2.0, 3.0, 0.3, 0.6, 0.3, -0.2, 0.4], [0.65, 1.0, -0.65, -1.7, 0.0, -0.8, -0.2, 1.5] },
    };

    [Theory]
    [MemberData(nameof(Poses))]
    public void MuJoCoKinematicsOfTheMappedQposPutsEveryLinkWhereBulletHasIt(double[] pose, double[] angles)
    {
        double norm = Math.Sqrt(pose[3] * pose[3] + pose[4] * pose[4] + pose[5] * pose[5] + pose[6] * pose[6]);
        double[] baseState = [pose[0], pose[1], pose[2], pose[3] / norm, pose[4] / norm, pose[5] / norm, pose[6] / norm, 0, 0, 0, 0, 0, 0];
        using var ant = new BulletAnt(new EnvConfig(Engine: PhysicsEngine.Bullet), seed: 0);
        ant.SetState(baseState, angles, new double[IAnt.Actuators]);
        double[] links = ant.ReadLinkPositions();

        var qpos = new double[BulletAnt.MuJoCoQposSize];
        ant.WriteMuJoCoQpos(qpos);
        using var model = AntModel.Create();
        using var data = new MjData(model);
        Assert.Equal(model.Nq, qpos.Length);
        qpos.CopyTo(data.Qpos);
        data.Kinematics(model);

        // MuJoCo: bodies world 0, torso 1, then per leg k the leg (2+3k), thigh (3+3k, on hip_k) and shin (4+3k, on
        // ankle_k); geoms floor 0, torso 1, then per leg the three capsules 2+3k.. 4+3k, each centred at its midpoint.
        // Bullet: per leg links 5k..5k+4: the leg capsule (frame at its midpoint), the hip's link (at the hinge), the
        // thigh capsule, the ankle's link, the shin capsule.
        Near(baseState.AsSpan(0, 3), data.Xpos.Slice(3 * SlipperyAnt.TorsoBody, 3), "torso");
        for (int k = 0; k < 4; k++)
        {
            Near(links.AsSpan(3 * (5 * k), 3), data.GeomXpos.Slice(3 * (2 + 3 * k), 3), $"leg {k + 1}'s first capsule");
            Near(links.AsSpan(3 * (5 * k + 1), 3), data.Xpos.Slice(3 * (3 + 3 * k), 3), $"hip_{k + 1}");
            Near(links.AsSpan(3 * (5 * k + 2), 3), data.GeomXpos.Slice(3 * (3 + 3 * k), 3), $"leg {k + 1}'s thigh");
            Near(links.AsSpan(3 * (5 * k + 3), 3), data.Xpos.Slice(3 * (4 + 3 * k), 3), $"ankle_{k + 1}");
            Near(links.AsSpan(3 * (5 * k + 4), 3), data.GeomXpos.Slice(3 * (4 + 3 * k), 3), $"leg {k + 1}'s shin");
        }
    }

    [Fact]
    public void TheQposIsTheBaseWithMuJoCosQuaternionOrderThenTheAnglesInActionOrder()
    {
        using var ant = new BulletAnt(new EnvConfig(Engine: PhysicsEngine.Bullet), seed: 0);
        double[] angles = [0.1, 0.6, -0.3, -0.9, 0.5, -1.4, -0.6, 1.2];
        ant.SetState([1, 2, 0.5, 0, 0, 0.6, 0.8, 0, 0, 0, 0, 0, 0], angles, new double[IAnt.Actuators]);
        var qpos = new double[BulletAnt.MuJoCoQposSize];
        ant.WriteMuJoCoQpos(qpos);
        double[] expected = [1, 2, 0.5, 0.8, 0, 0, 0.6, .. angles];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], qpos[i], 12);
        Assert.Throws<ArgumentException>(() => ant.WriteMuJoCoQpos(new double[14]));
    }

    private static void Near(ReadOnlySpan<double> bullet, ReadOnlySpan<double> mujoco, string what)
    {
        double distance = Math.Sqrt((bullet[0] - mujoco[0]) * (bullet[0] - mujoco[0]) + (bullet[1] - mujoco[1]) * (bullet[1] - mujoco[1])
            + (bullet[2] - mujoco[2]) * (bullet[2] - mujoco[2]));
        Assert.True(distance < Tolerance,
            $"{what}: Bullet ({bullet[0]:F6}, {bullet[1]:F6}, {bullet[2]:F6}), MuJoCo ({mujoco[0]:F6}, {mujoco[1]:F6}, {mujoco[2]:F6}), {distance:G3} m apart");
    }
}
