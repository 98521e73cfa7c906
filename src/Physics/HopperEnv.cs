namespace CbpGpu.Physics;

/// <summary>
/// Gym's Hopper-v3 (docs/gym-mujoco.md#hopper): one leg, three motors, 11 observed floats (qpos[1..6), qvel clipped
/// to +-10). Healthy while every value of qpos[2..] and qvel is inside (-100, 100), the height inside (0.7, inf) and
/// the pitch inside (-0.2, 0.2); asset src/Physics/Assets/hopper.xml.
/// </summary>
public sealed class HopperEnv(EnvConfig config, ulong seed, int index = 0, double friction = 1.0)
    : PlanarMuJoCoEnv("hopper.xml", nq: 6, config, seed, index, friction)
{
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
