using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>
/// One Ant (Gym Ant-v3 semantics, docs/ant.md#step) with its own mjModel copy, so its ground friction can differ from
/// other envs, and its own RNG for reset noise. Episode bookkeeping lives here; auto-reset is the caller's choice.
/// </summary>
public sealed unsafe class SlipperyAnt : IAnt
{
    /// <summary>Body 0 is the world; the torso is the first body of the model.</summary>
    public const int TorsoBody = 1;
    public const int FrameSkip = 5;
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
    public static Rendering.EnvView View { get; } = new(AntModel.File, Rendering.ViewCamera.Tracking(TorsoBody, distance: 4.0, elevation: -20.0),
        Rendering.ViewCamera.Free(2.0, 0.0, 0.3, distance: 9.0, elevation: -30.0), (env, qpos) => ((SlipperyAnt)env).Data.Qpos.CopyTo(qpos));

    private readonly MjModel _model;
    private readonly MjData _data;
    private readonly IntPtr _m, _d;
    private readonly int _nq, _nv, _ncfrc, _ngeom;
    private readonly double _dt;
    private Rng _rng;

    /// <param name="seed">Run seed; with <paramref name="index"/> it picks this env's RNG stream.</param>
    /// <param name="index">Which env of a vector this is (env i of VectorEnv(seed) equals SlipperyAnt(seed, i)).</param>
    /// <param name="friction">Initial sliding friction of every geom.</param>
    public SlipperyAnt(EnvConfig config, ulong seed, int index = 0, double friction = 1.0)
    {
        config.Validate();
        if (config.Id != EnvRegistry.Ant) throw new ArgumentException($"a SlipperyAnt is the {EnvRegistry.Ant} env, not {config.Id}", nameof(config));
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Config = config;
        _model = AntModel.Create();
        _data = new MjData(_model);
        _m = _model.Ptr;
        _d = _data.Ptr;
        _nq = _model.Nq;
        _nv = _model.Nv;
        _ncfrc = _model.Nbody * 6;
        _ngeom = _model.Ngeom;
        _dt = _model.Timestep * FrameSkip;
        if (_nq != 15 || _nv != 14 || _model.Nu != IAnt.Actuators || _model.Na != 0)
            throw new PhysicsException($"the Ant model compiled to nq {_nq}, nv {_nv}, nu {_model.Nu}, na {_model.Na}; expected 15, 14, 8, 0");
        _rng = new Rng(seed, (ulong)index);
        Friction = friction;
        Reset(Span<float>.Empty);
    }

    public EnvConfig Config { get; }
    /// <summary>qpos[2..] and qvel (27), and the 84 clipped contact forces unless NoContact (111).</summary>
    public int ObservationSize => _nq - 2 + _nv + (Config.Observation == ObservationKind.NoContact ? 0 : _ncfrc);
    public int ActionSize => IAnt.Actuators;
    public int StateVersion => 1;
    public MjModel Model => _model;
    public MjData Data => _data;

    /// <summary>Steps taken in the current episode.</summary>
    public int EpisodeLength { get; private set; }

    /// <summary>Sum of the rewards of the current episode.</summary>
    public double EpisodeReturn { get; private set; }

    /// <summary>Sliding friction of every geom. A new value takes effect on the next physics step (no model reload).</summary>
    public double Friction
    {
        get;
        set
        {
            if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "friction must be finite and > 0");
            double* f = _model.GeomFrictionPtr;
            for (int g = 0; g < _ngeom; g++) f[3 * g] = value;
            field = value;
        }
    }

    /// <summary>
    /// Starts a new episode: qpos = rest pose + U(-noise, noise), qvel = noise * N(0, 1), then mj_forward, as Gym does
    /// (mj_resetData first, so ctrl, warm start and time start from zero). Writes the first observation if given room.
    /// </summary>
    public void Reset(Span<float> observation)
    {
        MjNative.mj_resetData(_m, _d);
        double noise = Config.ResetNoise;
        double* qpos = _data.QposPtr, qvel = _data.QvelPtr, qpos0 = _model.Qpos0Ptr;
        for (int i = 0; i < _nq; i++) qpos[i] = qpos0[i] + _rng.Uniform(-noise, noise);
        for (int i = 0; i < _nv; i++) qvel[i] = noise * _rng.NextGaussian();
        MjNative.mj_forward(_m, _d);
        EpisodeLength = 0;
        EpisodeReturn = 0;
        if (!observation.IsEmpty) WriteObservation(observation);
    }

    /// <summary>One env step: ctrl = action (unclipped; MuJoCo clamps to ctrlrange), five mj_steps, reward and checks.</summary>
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != ActionSize) throw new ArgumentException($"an Ant action has {ActionSize} values, got {action.Length}", nameof(action));
        for (int k = 0; k < ActionSize; k++)
            if (!float.IsFinite(action[k]))
                throw new ArgumentException($"action[{k}] is {action[k]}; actions must be finite", nameof(action));
        if (observation.Length != ObservationSize) throw new ArgumentException($"the observation needs {ObservationSize} floats, got {observation.Length}", nameof(observation));
        fixed (float* a = action)
        fixed (float* o = observation)
            return StepUnchecked(a, o);
    }

    /// <summary>The step proper; the caller has checked that the 8 actions are finite and that obs has room.</summary>
    public StepResult StepUnchecked(float* action, float* observation)
    {
        double* xpos = _data.XposPtr, ctrl = _data.CtrlPtr;
        // Gym reads the torso's xpos before and after; after mj_step xpos holds the kinematics of the state before
        // the last integration, and both implementations read it the same way.
        double xBefore = xpos[3 * TorsoBody];
        double ctrlCost = 0;
        for (int k = 0; k < ActionSize; k++)
        {
            double a = action[k];
            ctrl[k] = a;
            ctrlCost += a * a;
        }
        for (int s = 0; s < FrameSkip; s++) MjNative.mj_step(_m, _d);
        double xAfter = xpos[3 * TorsoBody];
        if (Config.Observation == ObservationKind.RealContact) MjNative.mj_rnePostConstraint(_m, _d);

        // The contact cost uses the very cfrc_ext values the observation shows: zero unless RealContact ran
        // mj_rnePostConstraint, which is what the published runs (plain mj_step) had.
        double* cfrc = _data.CfrcExtPtr;
        double contactCost = 0;
        for (int i = 0; i < _ncfrc; i++)
        {
            double c = Math.Clamp(cfrc[i], -1.0, 1.0);
            contactCost += c * c;
        }
        double forward = (xAfter - xBefore) / _dt;
        double reward = forward + HealthyReward - CtrlCostWeight * ctrlCost - ContactCostWeight * contactCost;

        double* qpos = _data.QposPtr, qvel = _data.QvelPtr;
        bool finite = true;
        for (int i = 0; i < _nq; i++) finite &= double.IsFinite(qpos[i]);
        for (int i = 0; i < _nv; i++) finite &= double.IsFinite(qvel[i]);
        double z = qpos[2];
        bool terminated = !finite || z < HealthyZMin || z > HealthyZMax;

        EpisodeLength++;
        EpisodeReturn += reward;
        bool truncated = !terminated && EpisodeLength >= Config.MaxEpisodeSteps;
        WriteObservation(observation);
        return new StepResult(reward, terminated, truncated);
    }

    /// <summary>qpos[2..15) (13), qvel (14), then clip(cfrc_ext, -1, 1) for all 14 bodies (84) unless NoContact.</summary>
    public void WriteObservation(Span<float> observation)
    {
        if (observation.Length != ObservationSize) throw new ArgumentException($"the observation needs {ObservationSize} floats, got {observation.Length}", nameof(observation));
        fixed (float* o = observation) WriteObservation(o);
    }

    internal void WriteObservation(float* o)
    {
        double* qpos = _data.QposPtr, qvel = _data.QvelPtr;
        int j = 0;
        for (int i = 2; i < _nq; i++) o[j++] = (float)qpos[i];
        for (int i = 0; i < _nv; i++) o[j++] = (float)qvel[i];
        if (Config.Observation == ObservationKind.NoContact) return;
        double* cfrc = _data.CfrcExtPtr;
        for (int i = 0; i < _ncfrc; i++) o[j++] = (float)Math.Clamp(cfrc[i], -1.0, 1.0);
    }

    /// <summary>
    /// Everything the next steps depend on: the MuJoCo state (qpos, qvel, act, ctrl, time, the solver's warm start),
    /// the torso xpos that the next reward reads before stepping, friction, episode counters and the RNG.
    /// </summary>
    public void WriteState(BinaryWriter w)
    {
        new EpisodeState(_rng, Friction, EpisodeLength, EpisodeReturn).Write(w);
        _data.WriteState(w, xpos: true);
    }

    public void ReadState(BinaryReader r)
    {
        var saved = EpisodeState.Read(r, Config.MaxEpisodeSteps);
        Friction = saved.Friction;
        (_rng, EpisodeLength, EpisodeReturn) = (saved.Rng, saved.Length, saved.Return);
        _data.ReadState(r, xpos: true);
    }

    public void Dispose()
    {
        _data.Dispose();
        _model.Dispose();
    }
}
