namespace CbpGpu.Physics;

/// <summary>
/// Gym's Walker2d-v3 (docs/gym-mujoco.md#walker2d): two legs, six motors, 17 observed floats (qpos[1..9), qvel
/// clipped to +-10). Healthy while the height is inside (0.8, 2) and the pitch inside (-1, 1); asset
/// src/Physics/Assets/walker2d.xml.
/// </summary>
public sealed class Walker2dEnv(EnvConfig config, ulong seed, int index = 0, double friction = 1.0)
    : PlanarMuJoCoEnv("walker2d.xml", nq: 9, config, seed, index, friction)
{
    public override int FrameSkip => 4;
    protected override double CtrlCostWeight => 1e-3;
    protected override double HealthyReward => 1.0;
    protected override double VelocityClip => 10.0;
    protected override bool GaussianVelocityNoise => false;

    protected override bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel) =>
        0.8 < qpos[1] && qpos[1] < 2.0 && -1.0 < qpos[2] && qpos[2] < 1.0;
}
