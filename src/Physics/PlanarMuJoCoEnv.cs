using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>
/// What Gym's planar v3 bodies (Hopper, Walker2d, HalfCheetah; docs/gym-mujoco.md) share: qpos[0] is the slide along
/// x, qpos[1] the height, qpos[2] the pitch. One step sets ctrl to the action (MuJoCo clamps it to ctrlrange), runs
/// FrameSkip mj_steps and pays forward velocity (qpos[0] after minus before, over FrameSkip x timestep) plus the
/// healthy reward minus CtrlCostWeight x |action|^2. The observation is qpos[1..] then qvel (clipped where the env says).
/// Each env is one file that fills in its numbers; this class holds the step they share, <see cref="MuJoCoEnv"/> the rest.
/// </summary>
public abstract unsafe class PlanarMuJoCoEnv : MuJoCoEnv
{
    /// <param name="asset">The MJCF file under src/Physics/Assets.</param>
    /// <param name="nq">The qpos size the model must compile to (qvel the same, nq - 3 motors: a check that the asset is the body the env describes).</param>
    protected PlanarMuJoCoEnv(string asset, int nq, EnvConfig config, ulong seed, int index, double friction)
        : base(asset, nq, nv: nq, nu: nq - 3, config, seed, index, friction)
    {
    }

    protected abstract double CtrlCostWeight { get; }
    /// <summary>Paid every step (Gym pays it also on the step that ends unhealthy).</summary>
    protected abstract double HealthyReward { get; }
    /// <summary>The observed velocities are clipped to [-VelocityClip, VelocityClip] (infinity: not clipped).</summary>
    protected abstract double VelocityClip { get; }
    /// <summary>Gym's health test on the state after the step; false terminates the episode.</summary>
    protected abstract bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel);

    public override int ObservationSize => Nq - 1 + Nv;

    public override StepResult StepUnchecked(float* action, float* observation)
    {
        double* qpos = Data.QposPtr, qvel = Data.QvelPtr;
        double xBefore = qpos[0];
        double ctrlCost = SetControl(action);
        StepPhysics();
        double reward = (qpos[0] - xBefore) / Dt + HealthyReward - CtrlCostWeight * ctrlCost;
        bool terminated = !StateIsFinite() || !IsHealthy(new ReadOnlySpan<double>(qpos, Nq), new ReadOnlySpan<double>(qvel, Nv));
        return EndStep(reward, terminated, observation);
    }

    protected override void WriteObservation(float* o)
    {
        double* qpos = Data.QposPtr, qvel = Data.QvelPtr;
        double clip = VelocityClip;
        int j = 0;
        for (int i = 1; i < Nq; i++) o[j++] = (float)qpos[i];
        for (int i = 0; i < Nv; i++) o[j++] = (float)Math.Clamp(qvel[i], -clip, clip);
    }
}
