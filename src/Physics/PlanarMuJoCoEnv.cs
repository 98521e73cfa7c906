using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>
/// What Gym's planar v3 bodies (Hopper, Walker2d, HalfCheetah; docs/gym-mujoco.md) share: qpos[0] is the slide along
/// x, qpos[1] the height, qpos[2] the pitch. One step sets ctrl to the action (MuJoCo clamps it to ctrlrange), runs
/// FrameSkip mj_steps and pays forward velocity (qpos[0] after minus before, over FrameSkip x timestep) plus the
/// healthy reward minus CtrlCostWeight x |action|^2. The observation is qpos[1..] then qvel (clipped where the env says).
/// Each env is one file that fills in its numbers; this class holds the loop they share.
/// </summary>
public abstract unsafe class PlanarMuJoCoEnv : IEnv
{
    private readonly MjModel _model;
    private readonly MjData _data;
    private readonly IntPtr _m, _d;
    private readonly int _nq, _nv, _nu, _ngeom;
    private readonly double _dt;
    private readonly double[] _xmlFriction;
    private Rng _rng;

    /// <param name="asset">The MJCF file under src/Physics/Assets.</param>
    /// <param name="nq">The qpos size the model must compile to (a check that the asset is the body the env describes).</param>
    protected PlanarMuJoCoEnv(string asset, int nq, EnvConfig config, ulong seed, int index, double friction)
    {
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Config = config;
        _model = MjcfAsset.Create(asset);
        _data = new MjData(_model);
        _m = _model.Ptr;
        _d = _data.Ptr;
        _nq = _model.Nq;
        _nv = _model.Nv;
        _nu = _model.Nu;
        _ngeom = _model.Ngeom;
        if (_nq != nq || _nv != nq || _nu != nq - 3 || _model.Na != 0)
            throw new PhysicsException($"{asset} compiled to nq {_nq}, nv {_nv}, nu {_nu}, na {_model.Na}; expected {nq}, {nq}, {nq - 3}, 0");
        _dt = _model.Timestep * FrameSkip;
        _xmlFriction = new double[_ngeom];
        double* f = _model.GeomFrictionPtr;
        for (int g = 0; g < _ngeom; g++) _xmlFriction[g] = f[3 * g];
        _rng = new Rng(seed, (ulong)index);
        Friction = friction;
        Reset(Span<float>.Empty);
    }

    /// <summary>MuJoCo steps per env step.</summary>
    public abstract int FrameSkip { get; }
    protected abstract double CtrlCostWeight { get; }
    /// <summary>Paid every step (Gym pays it also on the step that ends unhealthy).</summary>
    protected abstract double HealthyReward { get; }
    /// <summary>The observed velocities are clipped to [-VelocityClip, VelocityClip] (infinity: not clipped).</summary>
    protected abstract double VelocityClip { get; }
    /// <summary>Reset: qvel = U(-noise, noise) when false, noise x N(0, 1) when true; qpos always gets U(-noise, noise).</summary>
    protected abstract bool GaussianVelocityNoise { get; }
    /// <summary>Gym's health test on the state after the step; false terminates the episode.</summary>
    protected abstract bool IsHealthy(ReadOnlySpan<double> qpos, ReadOnlySpan<double> qvel);

    /// <summary>
    /// How render draws a planar body (docs/render.md#envs): with its own MJCF, qpos as the physics has it, the cameras
    /// its env file gives (Gym's v3 camera where Gym sets one).
    /// </summary>
    protected static Rendering.EnvView PlanarView(string asset, Rendering.ViewCamera track, Rendering.ViewCamera fixedCamera) =>
        new(asset, track, fixedCamera, (env, qpos) => ((PlanarMuJoCoEnv)env).Data.Qpos.CopyTo(qpos));

    public EnvConfig Config { get; }
    public int ObservationSize => _nq - 1 + _nv;
    public int ActionSize => _nu;
    public int StateVersion => 1;
    public MjModel Model => _model;
    public MjData Data => _data;
    public int EpisodeLength { get; private set; }
    public double EpisodeReturn { get; private set; }

    /// <summary>
    /// Scales every geom's sliding friction from the MJCF's: a contact's friction is the larger of its two geoms', so
    /// each foot-floor contact slides with Friction x Gym's coefficient; 1 is Gym's model exactly (docs/gym-mujoco.md#friction).
    /// </summary>
    public double Friction
    {
        get;
        set
        {
            if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "friction must be finite and > 0");
            double* f = _model.GeomFrictionPtr;
            for (int g = 0; g < _ngeom; g++) f[3 * g] = value * _xmlFriction[g];
            field = value;
        }
    }

    /// <summary>mj_resetData, qpos = qpos0 + U(-noise, noise), qvel as <see cref="GaussianVelocityNoise"/> says, mj_forward (Gym's reset_model).</summary>
    public void Reset(Span<float> observation)
    {
        MjNative.mj_resetData(_m, _d);
        double noise = Config.ResetNoise;
        double* qpos = _data.QposPtr, qvel = _data.QvelPtr, qpos0 = _model.Qpos0Ptr;
        for (int i = 0; i < _nq; i++) qpos[i] = qpos0[i] + _rng.Uniform(-noise, noise);
        if (GaussianVelocityNoise)
            for (int i = 0; i < _nv; i++) qvel[i] = noise * _rng.NextGaussian();
        else
            for (int i = 0; i < _nv; i++) qvel[i] = _rng.Uniform(-noise, noise);
        MjNative.mj_forward(_m, _d);
        EpisodeLength = 0;
        EpisodeReturn = 0;
        if (!observation.IsEmpty) WriteObservation(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        IEnv.CheckStep(this, action, observation);
        fixed (float* a = action)
        fixed (float* o = observation)
            return StepUnchecked(a, o);
    }

    public StepResult StepUnchecked(float* action, float* observation)
    {
        double* qpos = _data.QposPtr, qvel = _data.QvelPtr, ctrl = _data.CtrlPtr;
        double xBefore = qpos[0];
        double ctrlCost = 0;
        for (int k = 0; k < _nu; k++)
        {
            double a = action[k];
            ctrl[k] = a;
            ctrlCost += a * a;
        }
        for (int s = 0; s < FrameSkip; s++) MjNative.mj_step(_m, _d);
        double reward = (qpos[0] - xBefore) / _dt + HealthyReward - CtrlCostWeight * ctrlCost;

        // Non-finite state ends the episode in every env, as for the Ant (docs/gym-mujoco.md#termination).
        bool finite = true;
        for (int i = 0; i < _nq; i++) finite &= double.IsFinite(qpos[i]);
        for (int i = 0; i < _nv; i++) finite &= double.IsFinite(qvel[i]);
        bool terminated = !finite || !IsHealthy(new ReadOnlySpan<double>(qpos, _nq), new ReadOnlySpan<double>(qvel, _nv));

        EpisodeLength++;
        EpisodeReturn += reward;
        bool truncated = !terminated && EpisodeLength >= Config.MaxEpisodeSteps;
        WriteObservation(observation);
        return new StepResult(reward, terminated, truncated);
    }

    public void WriteObservation(Span<float> observation)
    {
        if (observation.Length != ObservationSize) throw new ArgumentException($"the observation needs {ObservationSize} floats, got {observation.Length}", nameof(observation));
        fixed (float* o = observation) WriteObservation(o);
    }

    private void WriteObservation(float* o)
    {
        double* qpos = _data.QposPtr, qvel = _data.QvelPtr;
        double clip = VelocityClip;
        int j = 0;
        for (int i = 1; i < _nq; i++) o[j++] = (float)qpos[i];
        for (int i = 0; i < _nv; i++) o[j++] = (float)Math.Clamp(qvel[i], -clip, clip);
    }

    /// <summary>The RNG, friction, episode counters and the MuJoCo state (time, qpos, qvel, act, ctrl, the solver's warm start).</summary>
    public void WriteState(BinaryWriter w)
    {
        new EpisodeState(_rng, Friction, EpisodeLength, EpisodeReturn).Write(w);
        _data.WriteState(w, xpos: false);
    }

    public void ReadState(BinaryReader r)
    {
        var saved = EpisodeState.Read(r, Config.MaxEpisodeSteps);
        Friction = saved.Friction;
        (_rng, EpisodeLength, EpisodeReturn) = (saved.Rng, saved.Length, saved.Return);
        _data.ReadState(r, xpos: false);
        // Positions, contacts and forces are derived: the next mj_step recomputes them from these before integrating.
    }

    public void Dispose()
    {
        _data.Dispose();
        _model.Dispose();
    }
}
