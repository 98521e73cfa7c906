using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>
/// What every MuJoCo env here shares (docs/extending.md#adding-an-environment): its own copy of its compiled MJCF (so
/// its friction is its own), its own reset-noise stream, Gym's reset (mj_resetData, qpos = qpos0 + U(-noise, noise),
/// qvel from the same stream, mj_forward), the checked step, the episode's bookkeeping, friction as a scale of the
/// MJCF's coefficients, and the checkpoint state (<see cref="EpisodeState"/>, then the MuJoCo state). An env fills in
/// the step's physics and reward (<see cref="StepUnchecked"/>, ending in <see cref="EndStep"/>), its observation, its
/// frame skip and the shape of its velocity noise: <see cref="SlipperyAnt"/>, and the planar Gym bodies through
/// <see cref="PlanarMuJoCoEnv"/>.
/// </summary>
public abstract unsafe class MuJoCoEnv : IEnv
{
    private readonly double[] _xmlFriction;
    private Rng _rng;

    /// <summary>The model and its data as raw pointers, for the step's MuJoCo calls.</summary>
    protected readonly IntPtr M, D;
    /// <summary>qpos and qvel sizes of the compiled model.</summary>
    protected readonly int Nq, Nv;
    /// <summary>Seconds per env step: the model's timestep x <see cref="FrameSkip"/>.</summary>
    protected readonly double Dt;

    /// <param name="asset">The MJCF file under src/Physics/Assets.</param>
    /// <param name="nq">The qpos size the model must compile to; with <paramref name="nv"/> and <paramref name="nu"/>
    /// (and no activations), a check that the asset is the body the env describes.</param>
    /// <param name="seed">Run seed; with <paramref name="index"/> it picks this env's RNG stream.</param>
    /// <param name="index">Which env of a vector this is (env i of VectorEnv(seed) equals this env made with (seed, i)).</param>
    /// <param name="friction">Initial <see cref="Friction"/>.</param>
    protected MuJoCoEnv(string asset, int nq, int nv, int nu, EnvConfig config, ulong seed, int index, double friction)
    {
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Config = config;
        Model = MjcfAsset.Create(asset);
        Data = new MjData(Model);
        M = Model.Ptr;
        D = Data.Ptr;
        Nq = Model.Nq;
        Nv = Model.Nv;
        if (Nq != nq || Nv != nv || Model.Nu != nu || Model.Na != 0)
            throw new PhysicsException($"{asset} compiled to nq {Nq}, nv {Nv}, nu {Model.Nu}, na {Model.Na}; expected {nq}, {nv}, {nu}, 0");
        Dt = Model.Timestep * FrameSkip;
        _xmlFriction = new double[Model.Ngeom];
        double* f = Model.GeomFrictionPtr;
        for (int g = 0; g < _xmlFriction.Length; g++) _xmlFriction[g] = f[3 * g];
        _rng = new Rng(seed, (ulong)index);
        Friction = friction;
        Reset(Span<float>.Empty);
    }

    /// <summary>MuJoCo steps per env step.</summary>
    public abstract int FrameSkip { get; }
    /// <summary>Reset: qvel = U(-noise, noise) when false, noise x N(0, 1) when true; qpos always gets U(-noise, noise).</summary>
    protected abstract bool GaussianVelocityNoise { get; }
    /// <summary>
    /// Whether the saved state includes xpos: true when the next step's reward reads a body position before stepping
    /// (the Ant's torso); otherwise the next mj_step recomputes positions, contacts and forces before integrating.
    /// </summary>
    protected virtual bool SavesXpos => false;

    public EnvConfig Config { get; }
    public abstract int ObservationSize { get; }
    public int ActionSize => Model.Nu;
    public int StateVersion => 1;
    public MjModel Model { get; }
    public MjData Data { get; }
    public int EpisodeLength { get; private set; }
    public double EpisodeReturn { get; private set; }

    /// <summary>
    /// Scales every geom's sliding friction from the MJCF's: a contact's friction is the larger of its two geoms', so a
    /// foot-floor contact slides with Friction x the asset's coefficient (docs/gym-mujoco.md#friction; every Ant geom
    /// has 1, so for the Ant it is each geom's coefficient, docs/ant.md). A new value takes effect on the next physics
    /// step (no model reload).
    /// </summary>
    public double Friction
    {
        get;
        set
        {
            if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "friction must be finite and > 0");
            double* f = Model.GeomFrictionPtr;
            for (int g = 0; g < _xmlFriction.Length; g++) f[3 * g] = value * _xmlFriction[g];
            field = value;
        }
    }

    /// <summary>
    /// Starts a new episode as Gym's reset_model does: mj_resetData (ctrl, warm start and time from zero), qpos = qpos0 +
    /// U(-noise, noise), qvel as <see cref="GaussianVelocityNoise"/> says, mj_forward. Writes the first observation if
    /// given room.
    /// </summary>
    public void Reset(Span<float> observation)
    {
        MjNative.mj_resetData(M, D);
        double noise = Config.ResetNoise;
        double* qpos = Data.QposPtr, qvel = Data.QvelPtr, qpos0 = Model.Qpos0Ptr;
        for (int i = 0; i < Nq; i++) qpos[i] = qpos0[i] + _rng.Uniform(-noise, noise);
        if (GaussianVelocityNoise)
            for (int i = 0; i < Nv; i++) qvel[i] = noise * _rng.NextGaussian();
        else
            for (int i = 0; i < Nv; i++) qvel[i] = _rng.Uniform(-noise, noise);
        MjNative.mj_forward(M, D);
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

    /// <summary>The step proper: ctrl from the action (MuJoCo clamps it to ctrlrange), FrameSkip mj_steps, the reward and the health test, then <see cref="EndStep"/>.</summary>
    public abstract StepResult StepUnchecked(float* action, float* observation);

    /// <summary>Writes the action into ctrl and returns its squared norm, the control cost before its weight.</summary>
    protected double SetControl(float* action)
    {
        double* ctrl = Data.CtrlPtr;
        double sum = 0;
        for (int k = 0, nu = Model.Nu; k < nu; k++)
        {
            double a = action[k];
            ctrl[k] = a;
            sum += a * a;
        }
        return sum;
    }

    /// <summary>Runs FrameSkip mj_steps.</summary>
    protected void StepPhysics()
    {
        for (int s = 0; s < FrameSkip; s++) MjNative.mj_step(M, D);
    }

    /// <summary>Whether qpos and qvel are all finite; a non-finite state ends the episode in every env (docs/gym-mujoco.md#termination).</summary>
    protected bool StateIsFinite()
    {
        double* qpos = Data.QposPtr, qvel = Data.QvelPtr;
        bool finite = true;
        for (int i = 0; i < Nq; i++) finite &= double.IsFinite(qpos[i]);
        for (int i = 0; i < Nv; i++) finite &= double.IsFinite(qvel[i]);
        return finite;
    }

    /// <summary>The step's end every env shares: the episode's counters, the time limit (never with termination), the observation.</summary>
    protected StepResult EndStep(double reward, bool terminated, float* observation)
    {
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

    /// <summary>Writes the current observation, ObservationSize floats.</summary>
    protected abstract void WriteObservation(float* observation);

    /// <summary>The RNG, friction, episode counters and the MuJoCo state (time, qpos, qvel, act, ctrl, the solver's warm start; xpos where <see cref="SavesXpos"/>).</summary>
    public void WriteState(BinaryWriter w)
    {
        new EpisodeState(_rng, Friction, EpisodeLength, EpisodeReturn).Write(w);
        Data.WriteState(w, SavesXpos);
    }

    public void ReadState(BinaryReader r)
    {
        var saved = EpisodeState.Read(r, Config.MaxEpisodeSteps);
        Friction = saved.Friction;
        (_rng, EpisodeLength, EpisodeReturn) = (saved.Rng, saved.Length, saved.Return);
        Data.ReadState(r, SavesXpos);
    }

    /// <summary>
    /// How render draws a MuJoCo env (docs/render.md#envs): with its own MJCF, qpos as the physics has it, the cameras
    /// its env file gives.
    /// </summary>
    protected static Rendering.EnvView ViewOf(string asset, Rendering.ViewCamera track, Rendering.ViewCamera fixedCamera) =>
        new(asset, track, fixedCamera, (env, qpos) => ((MuJoCoEnv)env).Data.Qpos.CopyTo(qpos));

    public void Dispose()
    {
        Data.Dispose();
        Model.Dispose();
    }
}
