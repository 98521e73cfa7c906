namespace CbpGpu.Physics;

/// <summary>
/// Gym's Hopper-v3 (docs/gym-mujoco.md#bodies): one leg, three motors, 11 observed floats (qpos[1..6), qvel clipped
/// to +-10). Healthy while every value of qpos[2..] and qvel is inside (-100, 100), the height inside (0.7, inf) and
/// the pitch inside (-0.2, 0.2); asset src/Physics/Assets/hopper.xml.
/// </summary>
public sealed class HopperEnv(EnvConfig config, ulong seed, int index = 0, double friction = 1.0)
    : PlanarMuJoCoEnv(Asset, nq: 6, config, seed, index, friction)
{
    private const string Asset = "hopper.xml";

    /// <summary>
    /// Follows the whole body's centre of mass (the torso's subtree), as Gym's "track" camera does, from Gym hopper_v3's
    /// viewer distance and elevation (3 m, 20 degrees above); the fixed camera looks from 9 m, 30 degrees above, at 0.7 m
    /// over a point 2 m ahead of the start (docs/render.md#envs).
    /// </summary>
    public static Rendering.EnvView View { get; } = ViewOf(Asset, Rendering.ViewCamera.Tracking(body: 1, distance: 3.0, elevation: -20.0),
        Rendering.ViewCamera.Free(2.0, 0.0, 0.7, distance: 9.0, elevation: -30.0));

    public override int FrameSkip => 4;
    protected override double CtrlCostWeight => 1e-3;
    protected override double HealthyReward => 1.0;
    protected override double VelocityClip => 10.0;
    protected override bool GaussianVelocityNoise => false;

    protected override bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel)
    {
        for (int i = 2; i < qpos.Length; i++)
            if (!(-100.0 < qpos[i] && qpos[i] < 100.0)) return false;
        foreach (double v in qvel)
            if (!(-100.0 < v && v < 100.0)) return false;
        return 0.7 < qpos[1] && -0.2 < qpos[2] && qpos[2] < 0.2;
    }
}
