namespace CbpGpu.Physics;

/// <summary>
/// Gym's Walker2d-v3 (docs/gym-mujoco.md#bodies): two legs, six motors, 17 observed floats (qpos[1..9), qvel
/// clipped to +-10). Healthy while the height is inside (0.8, 2) and the pitch inside (-1, 1); asset
/// src/Physics/Assets/walker2d.xml.
/// </summary>
public sealed class Walker2dEnv(EnvConfig config, ulong seed, int index = 0, double friction = 1.0)
    : PlanarMuJoCoEnv(Asset, nq: 9, config, seed, index, friction)
{
    private const string Asset = "walker2d.xml";

    /// <summary>
    /// Follows the whole body's centre of mass (the torso's subtree), as Gym's "track" camera does, from Gym walker2d_v3's
    /// viewer distance and elevation (4 m, 20 degrees above); the fixed camera looks from 9 m, 30 degrees above, at 0.7 m
    /// over a point 2 m ahead of the start (docs/render.md#envs).
    /// </summary>
    public static Rendering.EnvView View { get; } = ViewOf(Asset, Rendering.ViewCamera.Tracking(body: 1, distance: 4.0, elevation: -20.0),
        Rendering.ViewCamera.Free(2.0, 0.0, 0.7, distance: 9.0, elevation: -30.0));

    public override int FrameSkip => 4;
    protected override double CtrlCostWeight => 1e-3;
    protected override double HealthyReward => 1.0;
    protected override double VelocityClip => 10.0;
    protected override bool GaussianVelocityNoise => false;

    protected override bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel) =>
        0.8 < qpos[1] && qpos[1] < 2.0 && -1.0 < qpos[2] && qpos[2] < 1.0;
}
