using System.Runtime.InteropServices;
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

    // The replay log of the current episode (docs/bullet-ant.md#checkpoints): the RNG before its reset, the friction
    // it started with, every friction set since (step index, value) and every action as the step got it. Preallocated
    // for MaxEpisodeSteps steps (at most LoggedSteps: replay's uncapped ant is never saved), so logging costs a 32-byte
    // copy per step.
    private Rng _rngAtReset;
    private double _frictionAtReset;
    private readonly float[] _actionLog;
    private readonly float* _actionLogPtr;
    private readonly int[] _frictionSetAt;
    private readonly double[] _frictionSetTo;
    private int _frictionSets;
    private bool _logOverflow;

    /// <param name="seed">Run seed; with <paramref name="index"/> it picks this env's RNG stream.</param>
    /// <param name="friction">The floor's lateral friction (the ant keeps 1.5).</param>
    public BulletAnt(EnvConfig config, ulong seed, int index = 0, double friction = DefaultFloorFriction)
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
        int logged = Math.Min(config.MaxEpisodeSteps, LoggedSteps);
        _actionLog = GC.AllocateArray<float>(logged * IAnt.Actuators, pinned: true);
        fixed (float* p = _actionLog) _actionLogPtr = p;
        _frictionSetAt = new int[logged + 1];
        _frictionSetTo = new double[logged + 1];
        _rng = new Rng(seed, (ulong)index);
        Friction = friction;
        Reset(Span<float>.Empty);
    }

    public EnvConfig Config { get; }
    public int ObservationSize => ObservationLength;
    public int ActionSize => IAnt.Actuators;
    /// <summary><see cref="SavedStateVersion"/>: the replay log of the episode so far (docs/bullet-ant.md#checkpoints).</summary>
    public int StateVersion => SavedStateVersion;
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
            LogFriction(value);
        }
    }

    /// <summary>Records a friction set in the replay log; a second set before the same step replaces the first.</summary>
    private void LogFriction(double value)
    {
        if (_frictionSets > 0 && _frictionSetAt[_frictionSets - 1] == EpisodeLength) _frictionSetTo[_frictionSets - 1] = value;
        else if (_frictionSets < _frictionSetAt.Length)
        {
            _frictionSetAt[_frictionSets] = EpisodeLength;
            _frictionSetTo[_frictionSets++] = value;
        }
        else _logOverflow = true;
    }

    /// <summary>
    /// A new episode as pybullet_envs starts one: torso at (0, 0, 0.75), upright and at rest; each joint (action order)
    /// at U(-noise, noise) with zero speed; no contact history (docs/bullet-ant.md#reset).
    /// </summary>
    public void Reset(Span<float> observation)
    {
        _rngAtReset = _rng;
        _frictionAtReset = Friction;
        _frictionSets = 0;
        _logOverflow = false;
        double* q = stackalloc double[IAnt.Actuators];
        for (int j = 0; j < IAnt.Actuators; j++) q[j] = _rng.Uniform(-Config.ResetNoise, Config.ResetNoise);
        SetStateUnchecked(RestBase, new ReadOnlySpan<double>(q, IAnt.Actuators), stackalloc double[IAnt.Actuators]);
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
        if (baseState.Length != BaseStateSize || q.Length != IAnt.Actuators || qd.Length != IAnt.Actuators)
            throw new ArgumentException($"a Bullet Ant state is {BaseStateSize} base values and {IAnt.Actuators} angles and speeds");
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
        if (baseState.Length != BaseStateSize || q.Length != IAnt.Actuators || qd.Length != IAnt.Actuators)
            throw new ArgumentException($"a Bullet Ant state is {BaseStateSize} base values and {IAnt.Actuators} angles and speeds");
        fixed (double* b = baseState)
        fixed (double* pq = q)
        fixed (double* pqd = qd)
            BulletNative.GetState(_ant, b, pq, pqd);
    }

    /// <summary>
    /// How render draws it: with the MuJoCo Ant's model and cameras in this ant's pose (<see cref="WriteMuJoCoQpos"/>),
    /// its caption saying so (docs/render.md#bullet-runs).
    /// </summary>
    public static Rendering.EnvView View { get; } = SlipperyAnt.View with
    {
        Pose = (env, qpos) => ((BulletAnt)env).WriteMuJoCoQpos(qpos),
        Note = "Bullet Ant drawn with the MuJoCo model",
    };

    /// <summary>Positions of the MuJoCo Ant (docs/ant.md): free joint (3 + 4), then the 8 hinges.</summary>
    public const int MuJoCoQposSize = 7 + IAnt.Actuators;

    /// <summary>
    /// This ant's pose as the MuJoCo Ant's qpos, the same body plan (docs/render.md#bullet-runs): the torso, which is
    /// Bullet's multibody base, as the free joint (position, then the quaternion as MuJoCo orders it, w x y z, where
    /// Bullet's is x y z w), then the joint angles, whose order (hip_1, ankle_1, ..., hip_4, ankle_4) is both the
    /// action order here and MuJoCo's qpos order. Angles are copied as they are: Bullet's ankle ranges are wider than
    /// MuJoCo's, and a drawing has no limits to keep.
    /// </summary>
    public void WriteMuJoCoQpos(Span<double> qpos)
    {
        if (qpos.Length != MuJoCoQposSize) throw new ArgumentException($"the MuJoCo Ant's qpos has {MuJoCoQposSize} values, got {qpos.Length}", nameof(qpos));
        Span<double> baseState = stackalloc double[BaseStateSize];
        Span<double> q = stackalloc double[IAnt.Actuators];
        Span<double> qd = stackalloc double[IAnt.Actuators];
        GetState(baseState, q, qd);
        baseState[..3].CopyTo(qpos);
        qpos[3] = baseState[6];
        qpos[4] = baseState[3];
        qpos[5] = baseState[4];
        qpos[6] = baseState[5];
        q.CopyTo(qpos[7..]);
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

    /// <summary>Fields per manifold in <see cref="ReadSolverManifolds"/>: proxy uid of body 0, of body 1, contact points, ant part.</summary>
    public const int ManifoldFields = 4;

    /// <summary>
    /// The contact manifolds Bullet's solver got in the last substep, in the order it got them (docs/bullet-ant.md#contact-order):
    /// <see cref="ManifoldFields"/> ints each, the ant part being 0 for the torso and 1 + link index for a link.
    /// </summary>
    public int[] ReadSolverManifolds()
    {
        var all = new int[(Links + 1) * ManifoldFields];
        int n;
        fixed (int* p = all) n = BulletNative.SolverManifolds(_ant, p);
        return all[..(n * ManifoldFields)];
    }

    /// <summary>Broadphase proxy uids of the floor's, the torso's and the 20 links' colliders.</summary>
    public int[] ReadProxyUids()
    {
        var uids = new int[2 + Links];
        fixed (int* p = uids) BulletNative.ProxyUids(_ant, p);
        return uids;
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
        if (action.Length != IAnt.Actuators) throw new ArgumentException($"an Ant action has {IAnt.Actuators} values, got {action.Length}", nameof(action));
        for (int k = 0; k < IAnt.Actuators; k++)
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
        if (EpisodeLength * IAnt.Actuators < _actionLog.Length)
            Buffer.MemoryCopy(action, _actionLogPtr + EpisodeLength * IAnt.Actuators, IAnt.Actuators * sizeof(float), IAnt.Actuators * sizeof(float));
        else _logOverflow = true;
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
    /// A Bullet Ant's state for a checkpoint: not Bullet's internals (contact manifolds, warm-start impulses, broadphase
    /// pairs) but how to get there again. A reset clears all of Bullet's history, so the state is a deterministic
    /// function of the reset's RNG draws and the frictions and actions since; this writes those (the replay log) and,
    /// as a check, the return and the Bullet state they lead to (docs/bullet-ant.md#checkpoints, docs/formats.md#checkpointbin).
    /// </summary>
    public void WriteState(BinaryWriter w)
    {
        if (_logOverflow)
            throw new InvalidOperationException(
                $"this Bullet Ant's episode ran past {_actionLog.Length / IAnt.Actuators} steps (its cap or {LoggedSteps:N0}) without a reset, so its replay log is incomplete and it cannot be saved");
        _rngAtReset.Write(w);
        w.Write(_frictionAtReset);
        w.Write(EpisodeLength);
        w.Write(_frictionSets);
        for (int i = 0; i < _frictionSets; i++)
        {
            w.Write(_frictionSetAt[i]);
            w.Write(_frictionSetTo[i]);
        }
        for (int i = 0; i < EpisodeLength * IAnt.Actuators; i++) w.Write(_actionLog[i]);
        w.Write(EpisodeReturn);
        Span<double> state = stackalloc double[StateSize];
        GetState(state[..BaseStateSize], state.Slice(BaseStateSize, IAnt.Actuators), state[(BaseStateSize + IAnt.Actuators)..]);
        foreach (double v in state) w.Write(v);
    }

    /// <summary>
    /// Version of a Bullet VectorEnv's saved state. 1: written before Bullet runs could resume (no replay log); 2: replay
    /// logs of the physics before contacts were solved in PyBullet's order (issue 23), which this build's Bullet Ant
    /// does not replay bit for bit (docs/bullet-ant.md#checkpoints).
    /// </summary>
    public const int SavedStateVersion = 3;

    /// <summary>Why a Bullet env state of an older version cannot be resumed, and what to do; null for other versions.</summary>
    public string? WhyStateVersionRefused(int version) => version switch
    {
        1 => "it was written by a Bullet run started before Bullet runs could resume (it holds no replay log), so no build can continue it; " +
             "start it afresh with another --out",
        2 => "it was written by a Bullet run started before the Bullet Ant solved contacts in PyBullet's order (docs/bullet-ant.md#contact-order), " +
             "so this build's physics cannot replay it bit for bit; finish it with the build that started it, or start it afresh with another --out",
        _ => null,
    };

    /// <summary>The longest episode whose replay log is kept (an episode cap above it cannot be checkpointed).</summary>
    public const int LoggedSteps = 100_000;

    /// <summary>Doubles of <see cref="GetState"/>: base, joint angles, joint speeds.</summary>
    private const int StateSize = BaseStateSize + 2 * IAnt.Actuators;

    /// <summary>
    /// Restores a <see cref="WriteState"/> by replaying it: reset with the saved RNG state and friction, then the saved
    /// friction sets and actions, step by step. Throws InvalidDataException, before touching this ant, for data that
    /// cannot be a replay log, and after the replay when it does not reach the saved return and state bit for bit
    /// (another libbullet or shim build than the one that wrote it).
    /// </summary>
    public void ReadState(BinaryReader r)
    {
        var rng = Rng.Read(r);
        double startFriction = r.ReadDouble();
        int length = r.ReadInt32();
        if (!(startFriction > 0) || double.IsInfinity(startFriction))
            throw new InvalidDataException($"saved friction {startFriction} is not finite and > 0; the state is corrupt");
        if (length < 0 || length >= Config.MaxEpisodeSteps || length * IAnt.Actuators > _actionLog.Length)
            throw new InvalidDataException($"saved episode length {length} is outside 0..{Math.Min(Config.MaxEpisodeSteps - 1, _actionLog.Length / IAnt.Actuators)}; the state was saved with other settings or is corrupt");
        int sets = r.ReadInt32();
        if (sets < 0 || sets > length + 1) throw new InvalidDataException($"{sets} friction changes in a {length}-step episode; the state is corrupt");
        var setAt = new int[sets];
        var setTo = new double[sets];
        for (int i = 0; i < sets; i++)
        {
            setAt[i] = r.ReadInt32();
            setTo[i] = r.ReadDouble();
            if (setAt[i] < (i == 0 ? 0 : setAt[i - 1] + 1) || setAt[i] > length || !(setTo[i] > 0) || double.IsInfinity(setTo[i]))
                throw new InvalidDataException($"friction change {i} ({setTo[i]} before step {setAt[i]}) is out of order or invalid; the state is corrupt");
        }
        var actions = new float[length * IAnt.Actuators];
        for (int i = 0; i < actions.Length; i++)
            if (!float.IsFinite(actions[i] = r.ReadSingle())) throw new InvalidDataException($"saved action {i} is {actions[i]}; the state is corrupt");
        double savedReturn = r.ReadDouble();
        var saved = new double[StateSize];
        for (int i = 0; i < saved.Length; i++) saved[i] = r.ReadDouble();

        _rng = rng;
        Friction = startFriction;
        Reset(Span<float>.Empty);
        float* obs = stackalloc float[ObservationLength];
        int next = 0;
        fixed (float* a = actions)
            for (int k = 0; k < length; k++)
            {
                while (next < sets && setAt[next] == k) Friction = setTo[next++];
                var step = StepUnchecked(a + k * IAnt.Actuators, obs);
                if (step.Terminated || step.Truncated)
                    throw new InvalidDataException($"replaying the saved episode ended it at step {k + 1} of {length}: {ReplayMismatch}");
            }
        while (next < sets) Friction = setTo[next++];
        var replayed = new double[StateSize];
        GetState(replayed.AsSpan(0, BaseStateSize), replayed.AsSpan(BaseStateSize, IAnt.Actuators), replayed.AsSpan(BaseStateSize + IAnt.Actuators));
        if (BitConverter.DoubleToInt64Bits(EpisodeReturn) != BitConverter.DoubleToInt64Bits(savedReturn)
            || !MemoryMarshal.AsBytes(replayed.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(saved.AsSpan())))
            throw new InvalidDataException($"replaying the saved {length}-step episode did not reach the saved return and state: {ReplayMismatch}");
    }

    private const string ReplayMismatch =
        "this build's Bullet Ant (shim or libbullet) is not the one that wrote the checkpoint; resume with that build (docs/bullet-ant.md#checkpoints)";

    /// <summary>
    /// The bench ceiling (docs/speed.md): ants[first..first+count) stepped in the shim's own C++ loop for steps
    /// [from, to), torques and Bullet only; row s of <paramref name="actions"/> holds 8 floats per ant of the whole array.
    /// </summary>
    public static void StepRaw(BulletAnt[] ants, int first, int count, float[] actions, int from, int to)
    {
        int stride = ants.Length * IAnt.Actuators;
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
