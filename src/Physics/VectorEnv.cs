namespace CbpGpu.Physics;

/// <summary>
/// N Ants of either engine (<see cref="IAnt"/>) stepped in parallel on a <see cref="WorkerPool"/> (env i on the worker whose static range holds
/// it), with auto-reset and the friction schedule. All per-step outputs are contiguous arrays owned here and
/// overwritten by each <see cref="Step"/>; nothing is allocated per step. Env i behaves exactly like
/// <c>IAnt.Create(ant, seed, i, friction)</c> driven by hand, whatever the thread count.
/// </summary>
public sealed unsafe class VectorEnv : IDisposable
{
    public const int ActionSize = IAnt.ActionSize;

    /// <summary>
    /// Version of what <see cref="SaveState"/> writes: 1 with MuJoCo Ants, <see cref="BulletAnt.StateVersion"/> with
    /// Bullet Ants. The state carries no header of its own: a checkpoint stores it as one named, versioned block (see
    /// docs/formats.md#checkpointbin); bump these when the layout changes or a saved state no longer replays.
    /// </summary>
    public int StateVersion => _ant.Engine == PhysicsEngine.MuJoCo ? 1 : BulletAnt.StateVersion;

    /// <summary>Why a saved state of <paramref name="version"/> cannot be continued by this build, and what to do; null if unknown.</summary>
    public string? WhyStateVersionRefused(int version) => _ant.Engine == PhysicsEngine.MuJoCo ? null : BulletAnt.WhyStateVersionRefused(version);

    private readonly IAnt[] _envs;
    private readonly WorkerPool _pool;
    private readonly FrictionSchedule _schedule;
    private readonly AntConfig _ant;
    private readonly int[] _envGeneration;     // schedule generation whose friction each env uses
    private readonly float[] _actions;         // pinned copy of the caller's actions for the workers
    private readonly float* _actionsPtr, _obsPtr, _finalObsPtr;
    private readonly Action<int> _stepPartition, _resetPartition;
    private int _scheduleGeneration;            // published to workers before each dispatch
    private double _scheduleFriction;
    // One env under an episode-end protocol follows the authors' rule exactly (docs/friction.md#nature2024); N envs
    // share the summed clock of FrictionSchedule.Advance.
    private readonly bool _authorsRule;
    private long _stepsAfter;                   // the summed count at the end of the vector step under way

    /// <param name="threads">Worker threads including the caller (clamped to numEnvs); results do not depend on it.</param>
    public VectorEnv(int numEnvs, AntConfig ant, FrictionConfig friction, ulong seed, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ant.Validate();
        _ant = ant;
        _schedule = new FrictionSchedule(friction, seed);
        _authorsRule = numEnvs == 1 && friction.ChangeAtEpisodeEnd;
        NumEnvs = numEnvs;
        ObservationSize = ant.ObservationSize;
        _scheduleFriction = _schedule.Current;
        _envs = new IAnt[numEnvs];
        try
        {
            for (int i = 0; i < numEnvs; i++) _envs[i] = IAnt.Create(ant, seed, i, _scheduleFriction);
        }
        catch
        {
            foreach (var e in _envs) e?.Dispose();
            throw;
        }
        _envGeneration = new int[numEnvs];
        Observations = GC.AllocateArray<float>(numEnvs * ObservationSize, pinned: true);
        FinalObservations = GC.AllocateArray<float>(numEnvs * ObservationSize, pinned: true);
        _actions = GC.AllocateArray<float>(numEnvs * ActionSize, pinned: true);
        fixed (float* p = Observations) _obsPtr = p;
        fixed (float* p = FinalObservations) _finalObsPtr = p;
        fixed (float* p = _actions) _actionsPtr = p;
        Rewards = new float[numEnvs];
        Terminated = new bool[numEnvs];
        Truncated = new bool[numEnvs];
        EpisodeReturns = new double[numEnvs];
        EpisodeLengths = new int[numEnvs];
        EpisodeFrictions = new double[numEnvs];
        Frictions = new double[numEnvs];
        Array.Fill(Frictions, _scheduleFriction);
        _pool = new WorkerPool(Math.Min(threads, numEnvs));
        _stepPartition = StepPartition;
        _resetPartition = ResetPartition;
        // Each Ant starts its first episode in its constructor; here we only publish those observations,
        // so env i stays identical to a lone IAnt.Create(ant, seed, i, friction) (no second reset drawing more noise).
        for (int i = 0; i < numEnvs; i++) _envs[i].WriteObservation(Observations.AsSpan(i * ObservationSize, ObservationSize));
    }

    public int NumEnvs { get; }
    public int ObservationSize { get; }
    public int Threads => _pool.Threads;
    public AntConfig Ant => _ant;
    public FrictionSchedule Schedule => _schedule;

    /// <summary>NumEnvs x ObservationSize; rows of envs that ended in the last step already hold their new episode's first obs.</summary>
    public float[] Observations { get; }
    /// <summary>Rows valid where Terminated or Truncated: the last obs of the episode that ended.</summary>
    public float[] FinalObservations { get; }
    public float[] Rewards { get; }
    public bool[] Terminated { get; }
    public bool[] Truncated { get; }
    /// <summary>Return of the episode that ended in the last step (0 where none ended).</summary>
    public double[] EpisodeReturns { get; }
    /// <summary>Length of the episode that ended in the last step (0 where none ended).</summary>
    public int[] EpisodeLengths { get; }
    /// <summary>Friction in effect when that episode ended (0 where none ended).</summary>
    public double[] EpisodeFrictions { get; }
    /// <summary>Friction in effect now, per env.</summary>
    public double[] Frictions { get; }
    /// <summary>Env steps summed over all envs since construction (the schedule's clock).</summary>
    public long TotalSteps { get; private set; }

    /// <summary>The env objects, for inspection (tests, diagnostics). Stepping them directly bypasses the schedule.</summary>
    public IAnt GetEnv(int index) => _envs[index];

    /// <summary>Fresh episodes for all envs; pending friction changes are adopted, as at any episode end.</summary>
    public void Reset()
    {
        _scheduleGeneration = _schedule.Generation;
        _scheduleFriction = _schedule.Current;
        _pool.Run(_resetPartition);
        ClearStepOutputs();
    }

    /// <summary>After a reset or a load no step has happened yet: no reward, no episode ended.</summary>
    private void ClearStepOutputs()
    {
        Array.Clear(Rewards);
        Array.Clear(Terminated);
        Array.Clear(Truncated);
        Array.Clear(EpisodeReturns);
        Array.Clear(EpisodeLengths);
        Array.Clear(EpisodeFrictions);
    }

    /// <summary>One step of every env with actions (NumEnvs x 8, row per env), then auto-reset of the envs that ended.</summary>
    public void Step(ReadOnlySpan<float> actions)
    {
        if (actions.Length != _actions.Length)
            throw new ArgumentException($"expected {NumEnvs} x {ActionSize} = {_actions.Length} actions, got {actions.Length}", nameof(actions));
        for (int i = 0; i < actions.Length; i++)
            if (!float.IsFinite(actions[i]))
                throw new ArgumentException($"action {i % ActionSize} of env {i / ActionSize} is {actions[i]}; actions must be finite (a diverged policy?)", nameof(actions));
        actions.CopyTo(_actions);

        long before = TotalSteps, after = before + NumEnvs;
        _stepsAfter = after;
        if (!_authorsRule && _schedule.Advance(before, after))
        {
            _scheduleGeneration = _schedule.Generation;
            _scheduleFriction = _schedule.Current;
            if (!_schedule.Config.ChangeAtEpisodeEnd)
                for (int i = 0; i < NumEnvs; i++) Adopt(i);
        }
        _nextEnv = 0;
        _pool.Run(_stepPartition);
        TotalSteps = after;
    }

    private void Adopt(int i)
    {
        if (_envGeneration[i] == _scheduleGeneration) return;
        _envs[i].Friction = _scheduleFriction;
        _envGeneration[i] = _scheduleGeneration;
        Frictions[i] = _scheduleFriction;
    }

    // Envs are claimed one at a time from a shared counter rather than split statically: per-env cost varies with
    // contacts and the other core is often busy with other work, and a static split waits for the slower half at
    // every step. Measured with bench-env (64 envs, 2 threads, vs raw mj_step): claiming ~1.03, static split
    // ~0.90, Parallel.For ~0.8-0.9. Results do not depend on which thread steps an env: each env owns its state.
    private int _nextEnv;

    private void StepPartition(int w)
    {
        int i;
        while ((i = Interlocked.Increment(ref _nextEnv) - 1) < NumEnvs) StepOne(i);
    }

    private void StepOne(int i)
    {
        int obsSize = ObservationSize;
        var env = _envs[i];
        float* obs = _obsPtr + (long)i * obsSize;
        var r = env.StepUnchecked(_actionsPtr + i * ActionSize, obs);
        Rewards[i] = (float)r.Reward;
        Terminated[i] = r.Terminated;
        Truncated[i] = r.Truncated;
        if (r.Terminated || r.Truncated)
        {
            EpisodeReturns[i] = env.EpisodeReturn;
            EpisodeLengths[i] = env.EpisodeLength;
            EpisodeFrictions[i] = env.Friction;
            Buffer.MemoryCopy(obs, _finalObsPtr + (long)i * obsSize, obsSize * sizeof(float), obsSize * sizeof(float));
            // One env: the authors' change rule, checked at its own episode ends (only one worker ever gets here).
            if (_authorsRule && _schedule.EpisodeEnded(_stepsAfter))
            {
                _scheduleGeneration = _schedule.Generation;
                _scheduleFriction = _schedule.Current;
            }
            Adopt(i);
            env.Reset(new Span<float>(obs, obsSize));
        }
        else
        {
            EpisodeReturns[i] = 0;
            EpisodeLengths[i] = 0;
            EpisodeFrictions[i] = 0;
        }
    }

    private void ResetPartition(int w)
    {
        int end = _pool.PartitionStart(w + 1, NumEnvs);
        for (int i = _pool.PartitionStart(w, NumEnvs); i < end; i++)
        {
            Adopt(i);
            _envs[i].Reset(new Span<float>(_obsPtr + (long)i * ObservationSize, ObservationSize));
        }
    }

    /// <summary>Saves everything later steps depend on; a VectorEnv built with the same settings resumes bit for bit.</summary>
    public void SaveState(BinaryWriter w)
    {
        WriteSettings(w);
        w.Write(TotalSteps);
        _schedule.Write(w);
        for (int i = 0; i < NumEnvs; i++)
        {
            w.Write(_envGeneration[i]);
            _envs[i].WriteState(w);
        }
        foreach (float v in Observations) w.Write(v);
    }

    /// <summary>
    /// Restores a <see cref="SaveState"/>; throws InvalidDataException naming the problem if the settings differ or
    /// the data is truncated or corrupt, and then leaves this VectorEnv as it was. Bullet Ants are restored by replaying
    /// their episodes so far (docs/bullet-ant.md#checkpoints), one env after another.
    /// </summary>
    public void LoadState(BinaryReader r)
    {
        var backup = new MemoryStream();
        using (var bw = new BinaryWriter(backup, System.Text.Encoding.UTF8, leaveOpen: true)) SaveState(bw);
        try
        {
            ReadState(r);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or ArgumentOutOfRangeException)
        {
            backup.Position = 0;
            using (var br = new BinaryReader(backup)) ReadState(br);
            throw e as InvalidDataException ?? new InvalidDataException($"VectorEnv state is truncated or corrupt ({e.Message})", e);
        }
    }

    private void ReadState(BinaryReader r)
    {
        var saved = new MemoryStream();
        using (var sw = new BinaryWriter(saved, System.Text.Encoding.UTF8, leaveOpen: true)) WriteSettings(sw);
        byte[] expected = saved.ToArray();
        byte[] actual = r.ReadBytes(expected.Length);
        if (actual.Length < expected.Length) throw new InvalidDataException("VectorEnv state is empty or truncated");
        if (!actual.AsSpan().SequenceEqual(expected))
            throw new InvalidDataException($"VectorEnv state was saved with other settings ({DescribeSettings(actual)}); this VectorEnv has {DescribeSettings(expected)}");
        long total = r.ReadInt64();
        if (total < 0) throw new InvalidDataException($"saved step count {total} is negative; the state is corrupt");
        _schedule.Read(r);
        TotalSteps = total;
        _scheduleGeneration = _schedule.Generation;
        _scheduleFriction = _schedule.Current;
        for (int i = 0; i < NumEnvs; i++)
        {
            int generation = r.ReadInt32();
            if (generation < 0 || generation > _schedule.Generation)
                throw new InvalidDataException($"env {i} uses friction generation {generation} but the schedule is at {_schedule.Generation}; the state is corrupt");
            _envGeneration[i] = generation;
            try
            {
                _envs[i].ReadState(r);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"env {i}: {e.Message}", e);
            }
            Frictions[i] = _envs[i].Friction;
        }
        for (int i = 0; i < Observations.Length; i++) Observations[i] = r.ReadSingle();
        ClearStepOutputs();
    }

    private void WriteSettings(BinaryWriter w)
    {
        var f = _schedule.Config;
        w.Write(NumEnvs);
        w.Write(ObservationSize);
        w.Write((int)_ant.Observation);
        w.Write(_ant.MaxEpisodeSteps);
        w.Write(_ant.ResetNoise);
        w.Write((int)f.Protocol);
        w.Write(f.ConstantFriction);
        w.Write(f.Log10Min);
        w.Write(f.Log10Max);
        w.Write(f.ChangeEverySteps);
        w.Write(f.ChangeAtEpisodeEnd);
        if (_ant.Engine != PhysicsEngine.MuJoCo) w.Write((int)_ant.Engine);
    }

    private static string DescribeSettings(byte[] settings)
    {
        if (settings.Length is not (61 or 65)) return "unreadable settings";
        var r = new BinaryReader(new MemoryStream(settings));
        int n = r.ReadInt32(), obs = r.ReadInt32(), kind = r.ReadInt32(), max = r.ReadInt32();
        double noise = r.ReadDouble();
        int protocol = r.ReadInt32();
        double c = r.ReadDouble(), lo = r.ReadDouble(), hi = r.ReadDouble();
        long every = r.ReadInt64();
        bool atEnd = r.ReadBoolean();
        var engine = settings.Length == 65 ? (PhysicsEngine)r.ReadInt32() : PhysicsEngine.MuJoCo;
        return $"{engine}: {n} envs, obs {(ObservationKind)kind}/{obs}, {max}-step episodes, reset noise {noise}, friction {(FrictionProtocol)protocol} " +
               $"(constant {c}, log10 [{lo}, {hi}], every {every} steps{(atEnd ? " at episode end" : "")})";
    }

    public void Dispose()
    {
        _pool.Dispose();
        foreach (var e in _envs) e.Dispose();
    }
}
