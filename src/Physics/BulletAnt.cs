using CbpGpu.Physics.Native;

namespace CbpGpu.Physics;

/// <summary>
/// One PyBullet Ant (AntBulletEnv-v0, docs/bullet-ant.md) in its own Bullet world, so it can be stepped on any thread
/// and its floor friction can differ from other envs'. Episode bookkeeping and reset noise live here.
/// </summary>
public sealed unsafe class BulletAnt : IAnt
{
    public const int ObservationLength = 28;
    public const int Links = 20;
    /// <summary>Doubles per body in <see cref="ReadLinks"/>: mass, inertia (3), parent, joint type, axis (3), limits (2).</summary>
    public const int LinkFields = 11;
    /// <summary>Torso position (3), quaternion x y z w (4), linear and angular world velocity (6).</summary>
    public const int BaseStateSize = 13;
    /// <summary>The floor's lateral friction in PyBullet's stadium scene.</summary>
    public const double DefaultFloorFriction = 0.8;

    private readonly IntPtr _ant;
    private readonly float[] _obs = GC.AllocateArray<float>(ObservationLength, pinned: true);
    private readonly float* _obsPtr;
    private readonly double[] _terms = GC.AllocateArray<double>(4, pinned: true);
    private readonly double* _termsPtr;
    private Rng _rng;

    /// <param name="seed">Run seed; with <paramref name="index"/> it picks this env's RNG stream.</param>
    /// <param name="friction">The floor's lateral friction (the ant keeps 1.5).</param>
    public BulletAnt(AntConfig config, ulong seed, int index = 0, double friction = DefaultFloorFriction)
    {
        config.Validate();
        if (config.Engine == PhysicsEngine.MuJoCo) throw new ArgumentException("a BulletAnt runs on Bullet; this config asks for MuJoCo", nameof(config));
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        BulletNative.EnsureLoaded();
        Config = config;
        _ant = BulletNative.Create(DefaultFloorFriction, config.Engine == PhysicsEngine.Bullet ? 1 : 0);
        if (_ant == IntPtr.Zero) throw new OutOfMemoryException("Bullet could not allocate an Ant");
        fixed (float* p = _obs) _obsPtr = p;
        fixed (double* p = _terms) _termsPtr = p;
        _rng = new Rng(seed, (ulong)index);
        Friction = friction;
        Reset(Span<float>.Empty);
    }

    public AntConfig Config { get; }
    public int ObservationSize => ObservationLength;
    public int EpisodeLength { get; private set; }
    public double EpisodeReturn { get; private set; }

    /// <summary>The last step's reward terms: alive, progress, electricity, joints at limit (docs/bullet-ant.md#reward).</summary>
    public ReadOnlySpan<double> RewardTerms => _terms;

    /// <summary>The floor's lateral friction; takes effect on the next step.</summary>
    public double Friction
    {
        get;
        set
        {
            if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "friction must be finite and > 0");
            BulletNative.SetFloorFriction(_ant, value);
            field = value;
        }
    }

    internal IntPtr Handle => _ant;

    /// <summary>
    /// A new episode as pybullet_envs starts one: torso at (0, 0, 0.75), upright and at rest; each joint (action order)
    /// at U(-noise, noise) with zero speed; no contact history (docs/bullet-ant.md#reset).
    /// </summary>
    public void Reset(Span<float> observation)
    {
        double* q = stackalloc double[IAnt.ActionSize];
        for (int j = 0; j < IAnt.ActionSize; j++) q[j] = _rng.Uniform(-Config.ResetNoise, Config.ResetNoise);
        SetStateUnchecked(RestBase, new ReadOnlySpan<double>(q, IAnt.ActionSize), stackalloc double[IAnt.ActionSize]);
        EpisodeLength = 0;
        EpisodeReturn = 0;
        if (!observation.IsEmpty) WriteObservation(observation);
    }

    private static ReadOnlySpan<double> RestBase => [0, 0, 0.75f, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];

    /// <summary>
    /// Puts the ant in a given state (a test's hand-set state, a reset): base as <see cref="BaseStateSize"/>, joint
    /// angles and speeds in action order; foot flags zero, the potential of that state, no contact history.
    /// </summary>
    public void SetState(ReadOnlySpan<double> baseState, ReadOnlySpan<double> q, ReadOnlySpan<double> qd)
    {
        if (baseState.Length != BaseStateSize || q.Length != IAnt.ActionSize || qd.Length != IAnt.ActionSize)
            throw new ArgumentException($"a Bullet Ant state is {BaseStateSize} base values and {IAnt.ActionSize} angles and speeds");
        SetStateUnchecked(baseState, q, qd);
    }

    private void SetStateUnchecked(ReadOnlySpan<double> baseState, ReadOnlySpan<double> q, ReadOnlySpan<double> qd)
    {
        fixed (double* b = baseState)
        fixed (double* pq = q)
        fixed (double* pqd = qd)
            BulletNative.SetState(_ant, b, pq, pqd, _obsPtr);
    }

    /// <summary>The state <see cref="SetState"/> takes, read back from Bullet.</summary>
    public void GetState(Span<double> baseState, Span<double> q, Span<double> qd)
    {
        if (baseState.Length != BaseStateSize || q.Length != IAnt.ActionSize || qd.Length != IAnt.ActionSize)
            throw new ArgumentException($"a Bullet Ant state is {BaseStateSize} base values and {IAnt.ActionSize} angles and speeds");
        fixed (double* b = baseState)
        fixed (double* pq = q)
        fixed (double* pqd = qd)
            BulletNative.GetState(_ant, b, pq, pqd);
    }

    /// <summary>Torso then links 0..19, <see cref="LinkFields"/> doubles each, as Bullet holds them.</summary>
    public double[] ReadLinks()
    {
        var links = new double[(Links + 1) * LinkFields];
        fixed (double* p = links) BulletNative.Links(_ant, p);
        return links;
    }

    /// <summary>The links' positions as the observation reads them (3 per link).</summary>
    public double[] ReadLinkPositions()
    {
        var positions = new double[3 * Links];
        fixed (double* p = positions) BulletNative.LinkPositions(_ant, p);
        return positions;
    }

    /// <summary>1 for each foot (front_left, front_right, left_back, right_back) whose collider touches the floor now.</summary>
    public float[] ReadFootContacts()
    {
        var c = new float[4];
        fixed (float* p = c) BulletNative.FootContacts(_ant, p);
        return c;
    }

    /// <summary>Lateral friction of the floor, then of the torso and the 20 links' colliders.</summary>
    public double[] ReadFrictions()
    {
        var f = new double[2 + Links];
        fixed (double* p = f) BulletNative.Frictions(_ant, p);
        return f;
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != IAnt.ActionSize) throw new ArgumentException($"an Ant action has {IAnt.ActionSize} values, got {action.Length}", nameof(action));
        for (int k = 0; k < IAnt.ActionSize; k++)
            if (!float.IsFinite(action[k]))
                throw new ArgumentException($"action[{k}] is {action[k]}; actions must be finite", nameof(action));
        if (observation.Length != ObservationLength) throw new ArgumentException($"the observation needs {ObservationLength} floats, got {observation.Length}", nameof(observation));
        fixed (float* a = action)
        fixed (float* o = observation)
            return StepUnchecked(a, o);
    }

    /// <summary>Torques 250 clip(a), four substeps, then reward = alive + progress + electricity + limits, summed in that order.</summary>
    public StepResult StepUnchecked(float* action, float* observation)
    {
        bool terminated = BulletNative.Step(_ant, action, _obsPtr, _termsPtr) != 0;
        double reward = _termsPtr[0] + _termsPtr[1] + _termsPtr[2] + _termsPtr[3];
        EpisodeLength++;
        EpisodeReturn += reward;
        bool truncated = !terminated && EpisodeLength >= Config.MaxEpisodeSteps;
        Buffer.MemoryCopy(_obsPtr, observation, ObservationLength * sizeof(float), ObservationLength * sizeof(float));
        return new StepResult(reward, terminated, truncated);
    }

    public void WriteObservation(Span<float> observation)
    {
        if (observation.Length != ObservationLength) throw new ArgumentException($"the observation needs {ObservationLength} floats, got {observation.Length}", nameof(observation));
        _obs.CopyTo(observation);
    }

    /// <summary>
    /// What a checkpoint can hold of a Bullet Ant: its counters and RNG. Bullet's contact manifolds and warm-start
    /// impulses are not saved, so a Bullet run cannot resume (docs/bullet-ant.md#checkpoints).
    /// </summary>
    public void WriteState(BinaryWriter w)
    {
        _rng.Write(w);
        w.Write(Friction);
        w.Write(EpisodeLength);
        w.Write(EpisodeReturn);
    }

    public void ReadState(BinaryReader r) => throw new NotSupportedException(ResumeRefusal);

    /// <summary>Why a Bullet run cannot continue from a checkpoint.</summary>
    public const string ResumeRefusal =
        "a Bullet Ant run cannot resume from a checkpoint: Bullet's contact and solver caches are not saved, so the resumed run would diverge (docs/bullet-ant.md#checkpoints)";

    /// <summary>
    /// The bench ceiling (docs/speed.md): ants[first..first+count) stepped in the shim's own C++ loop for steps
    /// [from, to), torques and Bullet only; row s of <paramref name="actions"/> holds 8 floats per ant of the whole array.
    /// </summary>
    public static void StepRaw(BulletAnt[] ants, int first, int count, float[] actions, int from, int to)
    {
        int stride = ants.Length * IAnt.ActionSize;
        if (first < 0 || count < 0 || first + count > ants.Length || from < 0 || to < from || (long)to * stride > actions.Length)
            throw new ArgumentOutOfRangeException(nameof(actions), "the ants or steps asked for are outside the arrays given");
        IntPtr* handles = stackalloc IntPtr[count];
        for (int i = 0; i < count; i++) handles[i] = ants[first + i]._ant;
        fixed (float* a = actions)
            BulletNative.StepRaw(handles, count, first, a + (long)from * stride, to - from, stride);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        BulletNative.Destroy(_ant);
    }

    private bool _disposed;
}
