using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>
/// One Ant (Gym Ant-v3 semantics, docs/ant.md#step) with its own mjModel copy, so its ground friction can differ from
/// other envs, and its own RNG for reset noise (qvel = noise x N(0, 1), as Gym's Ant). What every MuJoCo env shares
/// (reset, bookkeeping, friction, state) is <see cref="MuJoCoEnv"/>'s; auto-reset is the caller's choice.
/// </summary>
public sealed unsafe class SlipperyAnt : MuJoCoEnv, IAnt
{
    /// <summary>Body 0 is the world; the torso is the first body of the model.</summary>
    public const int TorsoBody = 1;
    public const double HealthyReward = 1.0;
    public const double CtrlCostWeight = 0.5;
    public const double ContactCostWeight = 5e-4;
    public const double HealthyZMin = 0.2;
    public const double HealthyZMax = 1.0;

    /// <summary>
    /// How render draws it (docs/render.md#camera): the track camera follows the torso from the side 4 m away (Gym
    /// Ant-v3's camera distance) and 20 degrees above; the fixed one looks from 9 m, 30 degrees above, at a point 2 m
    /// ahead of the start.
    /// </summary>
    public static Rendering.EnvView View { get; } = ViewOf(AntModel.File, Rendering.ViewCamera.Tracking(TorsoBody, distance: 4.0, elevation: -20.0),
        Rendering.ViewCamera.Free(2.0, 0.0, 0.3, distance: 9.0, elevation: -30.0));

    /// <summary>The 14 bodies' 6 cfrc_ext values each.</summary>
    private readonly int _ncfrc;

    /// <param name="seed">Run seed; with <paramref name="index"/> it picks this env's RNG stream.</param>
    /// <param name="index">Which env of a vector this is (env i of VectorEnv(seed) equals SlipperyAnt(seed, i)).</param>
    /// <param name="friction">Initial sliding friction of every geom.</param>
    public SlipperyAnt(EnvConfig config, ulong seed, int index = 0, double friction = 1.0)
        : base(AntModel.File, nq: 15, nv: 14, nu: IAnt.Actuators, AntOnly(config), seed, index, friction)
    {
        _ncfrc = Model.Nbody * 6;
    }

    private static EnvConfig AntOnly(EnvConfig config) =>
        config.Id == EnvRegistry.Ant ? config : throw new ArgumentException($"a SlipperyAnt is the {EnvRegistry.Ant} env, not {config.Id}", nameof(config));

    public override int FrameSkip => 5;
    protected override bool GaussianVelocityNoise => true;
    /// <summary>The next reward reads the torso's xpos before stepping, so a resumed Ant needs it saved.</summary>
    protected override bool SavesXpos => true;

    /// <summary>qpos[2..] and qvel (27), and the 84 clipped contact forces unless NoContact (111).</summary>
    public override int ObservationSize => Nq - 2 + Nv + (Config.Observation == ObservationKind.NoContact ? 0 : Model.Nbody * 6);

    /// <summary>One env step: ctrl = action (unclipped; MuJoCo clamps to ctrlrange), five mj_steps, reward and checks.</summary>
    public override StepResult StepUnchecked(float* action, float* observation)
    {
        double* xpos = Data.XposPtr;
        // Gym reads the torso's xpos before and after; after mj_step xpos holds the kinematics of the state before
        // the last integration, and both implementations read it the same way.
        double xBefore = xpos[3 * TorsoBody];
        double ctrlCost = SetControl(action);
        StepPhysics();
        double xAfter = xpos[3 * TorsoBody];
        if (Config.Observation == ObservationKind.RealContact) MjNative.mj_rnePostConstraint(M, D);

        // The contact cost uses the very cfrc_ext values the observation shows: zero unless RealContact ran
        // mj_rnePostConstraint, which is what the published runs (plain mj_step) had.
        double* cfrc = Data.CfrcExtPtr;
        double contactCost = 0;
        for (int i = 0; i < _ncfrc; i++)
        {
            double c = Math.Clamp(cfrc[i], -1.0, 1.0);
            contactCost += c * c;
        }
        double forward = (xAfter - xBefore) / Dt;
        double reward = forward + HealthyReward - CtrlCostWeight * ctrlCost - ContactCostWeight * contactCost;

        double z = Data.QposPtr[2];
        bool terminated = !StateIsFinite() || z < HealthyZMin || z > HealthyZMax;
        return EndStep(reward, terminated, observation);
    }

    /// <summary>qpos[2..15) (13), qvel (14), then clip(cfrc_ext, -1, 1) for all 14 bodies (84) unless NoContact.</summary>
    protected override void WriteObservation(float* o)
    {
        double* qpos = Data.QposPtr, qvel = Data.QvelPtr;
        int j = 0;
        for (int i = 2; i < Nq; i++) o[j++] = (float)qpos[i];
        for (int i = 0; i < Nv; i++) o[j++] = (float)qvel[i];
        if (Config.Observation == ObservationKind.NoContact) return;
        double* cfrc = Data.CfrcExtPtr;
        for (int i = 0; i < _ncfrc; i++) o[j++] = (float)Math.Clamp(cfrc[i], -1.0, 1.0);
    }
}
