namespace CbpGpu.Physics;

/// <summary>
/// Gym's HalfCheetah-v3 (docs/gym-mujoco.md#halfcheetah): six motors, 17 observed floats (qpos[1..9), qvel as is),
/// no healthy reward and no termination (only the time limit, or a non-finite state, ends an episode); reset noise
/// U(-0.1, 0.1) on qpos and 0.1 x N(0, 1) on qvel; asset src/Physics/Assets/half_cheetah.xml.
/// </summary>
public sealed class HalfCheetahEnv(EnvConfig config, ulong seed, int index = 0, double friction = 1.0)
    : PlanarMuJoCoEnv("half_cheetah.xml", nq: 9, config, seed, index, friction)
{
    public override int FrameSkip => 5;
    protected override double CtrlCostWeight => 0.1;
    protected override double HealthyReward => 0.0;
    protected override double VelocityClip => double.PositiveInfinity;
    protected override bool GaussianVelocityNoise => true;

    protected override bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel) => true;
}
