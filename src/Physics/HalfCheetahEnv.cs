namespace CbpGpu.Physics;

/// <summary>
/// Gym's HalfCheetah-v3 (docs/gym-mujoco.md#bodies): six motors, 17 observed floats (qpos[1..9), qvel as is),
/// no healthy reward and no termination (only the time limit, or a non-finite state, ends an episode); reset noise
/// U(-0.1, 0.1) on qpos and 0.1 x N(0, 1) on qvel; asset src/Physics/Assets/half_cheetah.xml.
/// </summary>
public sealed class HalfCheetahEnv(EnvConfig config, ulong seed, int index = 0, double friction = 1.0)
    : PlanarMuJoCoEnv(Asset, nq: 9, config, seed, index, friction)
{
    private const string Asset = "half_cheetah.xml";

    /// <summary>
    /// Follows the whole body's centre of mass (the torso's subtree) from Gym half_cheetah_v3's viewer distance, 4 m
    /// (it sets nothing else), 20 degrees above as the Ant's; the fixed camera looks from 9 m, 30 degrees above, at 0.35 m over a point 2 m ahead of
    /// the start (docs/render.md#envs).
    /// </summary>
    public static Rendering.EnvView View { get; } = ViewOf(Asset, Rendering.ViewCamera.Tracking(body: 1, distance: 4.0, elevation: -20.0),
        Rendering.ViewCamera.Free(2.0, 0.0, 0.35, distance: 9.0, elevation: -30.0));

    public override int FrameSkip => 5;
    protected override double CtrlCostWeight => 0.1;
    protected override double HealthyReward => 0.0;
    protected override double VelocityClip => double.PositiveInfinity;
    protected override bool GaussianVelocityNoise => true;

    protected override bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel) => true;
}
