namespace CbpGpu.Physics;

/// <summary>
/// N envs of one registry entry (<see cref="IEnv"/>) stepped in parallel on a <see cref="WorkerPool"/>, with auto-reset;
/// <see cref="ScheduledFriction"/> beside it changes their friction. All per-step outputs are contiguous arrays owned
/// here and overwritten by each <see cref="Step"/>; nothing is allocated per step. Env i behaves exactly like
/// <c>EnvRegistry.Create(config, seed, i, friction)</c> driven by hand, whatever the thread count.
/// </summary>
public sealed unsafe class VectorEnv : IDisposable
{
    /// <summary>
    /// Version of what <see cref="SaveState"/> writes: 3, a header naming the env and its own state version, then the
    /// settings field by field. 1 (MuJoCo Ants) and 2 (Bullet Ants, their replay logs) are read as well: the Ant's state
    /// before envs were a registry. The state is one named, versioned block of a checkpoint (docs/formats.md#checkpointbin).
    /// </summary>
    public const int StateVersion = 3;

    /// <summary>
    /// Why an envs block of <paramref name="blockVersion"/> cannot be continued by this build, in the env's own words; null
    /// if it may be read. Versions 1 and 2 predate the registry: their env state version was the block's own.
    /// </summary>
    public string? WhyOldStateRefused(int blockVersion) => blockVersion < StateVersion ? _envs[0].WhyStateVersionRefused(blockVersion) : null;

    private readonly IEnv[] _envs;
    private readonly WorkerPool _pool;
    private readonly ScheduledFriction _friction;
    private readonly EnvConfig _config;
    private readonly float[] _actions;         // pinned copy of the caller's actions for the workers
    private readonly float* _actionsPtr, _obsPtr, _finalObsPtr;
    private readonly Action<int> _stepPartition, _resetPartition;
    private long _stepsAfter;                   // the summed count at the end of the vector step under way

    /// <param name="threads">Worker threads including the caller (clamped to numEnvs); results do not depend on it.</param>
    public VectorEnv(int numEnvs, EnvConfig config, FrictionConfig friction, ulong seed, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEnvs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        config.Validate();
        _config = config;
        _friction = new ScheduledFriction(friction, seed, numEnvs);
        NumEnvs = numEnvs;
        _envs = new IEnv[numEnvs];
        try
        {
            for (int i = 0; i < numEnvs; i++) _envs[i] = EnvRegistry.Create(config, seed, i, _friction.Current);
        }
        catch
        {
            foreach (var e in _envs) e?.Dispose();
            throw;
        }
        ObservationSize = _envs[0].ObservationSize;
        ActionSize = _envs[0].ActionSize;
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
        _pool = new WorkerPool(Math.Min(threads, numEnvs));
        _claimed = new int[_pool.Threads * ClaimStride];
        _stepPartition = StepPartition;
        _resetPartition = ResetPartition;
        // Each env starts its first episode in its constructor; here we only publish those observations,
        // so env i stays identical to a lone EnvRegistry.Create(config, seed, i, friction) (no second reset drawing more noise).
        for (int i = 0; i < numEnvs; i++) _envs[i].WriteObservation(Observations.AsSpan(i * ObservationSize, ObservationSize));
    }

    public int NumEnvs { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int Threads => _pool.Threads;
    public EnvConfig Config => _config;
    public FrictionSchedule Schedule => _friction.Schedule;

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
    public double[] Frictions => _friction.Frictions;
    /// <summary>Env steps summed over all envs since construction (the schedule's clock).</summary>
    public long TotalSteps { get; private set; }

    /// <summary>The env objects, for inspection (tests, diagnostics). Stepping them directly bypasses the schedule.</summary>
    public IEnv GetEnv(int index) => _envs[index];

    /// <summary>Fresh episodes for all envs; pending friction changes are adopted, as at any episode end.</summary>
    public void Reset()
    {
        _friction.Publish();
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

    /// <summary>One step of every env with actions (NumEnvs x ActionSize, row per env), then auto-reset of the envs that ended.</summary>
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
        _friction.BeforeStep(before, after, _envs);
        Array.Clear(_claimed);
        _pool.Run(_stepPartition);
        TotalSteps = after;
    }

    // Each thread first claims, one at a time, the envs of its own contiguous share (the raw loop's static partition),
    // then claims what is left of the other shares. Claiming balances the load: per-env cost varies with contacts and the
    // other core is often busy with other work, so a static split waits for the slower share at every step. Starting
    // from its own share keeps each env on the same core from step to step (its mjData stays in that core's cache) and
    // each thread writing its own stretch of the output arrays (no cache line written by both). docs/gym-mujoco.md#throughput
    // has the measurements. Results do not depend on which thread steps an env: each env owns its state.
    private const int ClaimStride = 16;         // one counter per 64-byte cache line
    private readonly int[] _claimed;            // per share: envs of it claimed so far in this step

    private void StepPartition(int w)
    {
        int threads = _pool.Threads;
        for (int k = 0; k < threads; k++)
        {
            int share = w + k < threads ? w + k : w + k - threads;
            int start = _pool.PartitionStart(share, NumEnvs), count = _pool.PartitionStart(share + 1, NumEnvs) - start;
            int c;
            while ((c = Interlocked.Increment(ref _claimed[share * ClaimStride]) - 1) < count) StepOne(start + c);
        }
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
            _friction.EpisodeEnded(i, env, _stepsAfter);
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
            _friction.Adopt(i, _envs[i]);
            _envs[i].Reset(new Span<float>(_obsPtr + (long)i * ObservationSize, ObservationSize));
        }
    }

    /// <summary>Saves everything later steps depend on (version <see cref="StateVersion"/>); a VectorEnv built with the same settings resumes bit for bit.</summary>
    public void SaveState(BinaryWriter w)
    {
        Settings().Write(w);
        w.Write(TotalSteps);
        Schedule.Write(w);
        for (int i = 0; i < NumEnvs; i++)
        {
            _friction.WriteGeneration(w, i);
            _envs[i].WriteState(w);
        }
        foreach (float v in Observations) w.Write(v);
    }

    /// <summary>
    /// Restores a <see cref="SaveState"/> of <paramref name="version"/> (3, or the Ant's 1 and 2); throws
    /// InvalidDataException naming the problem if the settings differ or the data is truncated or corrupt, and then
    /// leaves this VectorEnv as it was. Bullet Ants are restored by replaying their episodes so far
    /// (docs/bullet-ant.md#checkpoints), one env after another.
    /// </summary>
    public void LoadState(BinaryReader r, int version = StateVersion)
    {
        if (version is < 1 or > StateVersion) throw new InvalidDataException($"env state version {version}; this build reads 1 to {StateVersion}");
        var backup = new MemoryStream();
        using (var bw = new BinaryWriter(backup, System.Text.Encoding.UTF8, leaveOpen: true)) SaveState(bw);
        try
        {
            ReadState(r, version);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or ArgumentOutOfRangeException)
        {
            backup.Position = 0;
            using (var br = new BinaryReader(backup)) ReadState(br, StateVersion);
            throw e as InvalidDataException ?? new InvalidDataException($"VectorEnv state is truncated or corrupt ({e.Message})", e);
        }
    }

    private void ReadState(BinaryReader r, int version)
    {
        SavedSettings saved, expected = Settings();
        try
        {
            saved = SavedSettings.Read(r, version);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException("VectorEnv state is empty or truncated");
        }
        if (saved.Env == expected.Env && saved.EnvStateVersion != expected.EnvStateVersion && _envs[0].WhyStateVersionRefused(saved.EnvStateVersion) is string why)
            throw new InvalidDataException(why);
        if (saved != expected)
            throw new InvalidDataException($"VectorEnv state was saved with other settings ({saved}); this VectorEnv has {expected}");
        long total = r.ReadInt64();
        if (total < 0) throw new InvalidDataException($"saved step count {total} is negative; the state is corrupt");
        Schedule.Read(r);
        TotalSteps = total;
        _friction.Publish();
        for (int i = 0; i < NumEnvs; i++)
        {
            _friction.ReadGeneration(r, i);
            try
            {
                _envs[i].ReadState(r);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"env {i}: {e.Message}", e);
            }
            _friction.Restored(i, _envs[i]);
        }
        for (int i = 0; i < Observations.Length; i++) Observations[i] = r.ReadSingle();
        ClearStepOutputs();
    }

    private SavedSettings Settings()
    {
        var f = Schedule.Config;
        return new SavedSettings(_config.Id, _envs[0].StateVersion, NumEnvs, ObservationSize, ActionSize, _config.Observation, _config.MaxEpisodeSteps,
            _config.ResetNoise, _config.Engine, f.Protocol, f.ConstantFriction, f.Log10Min, f.Log10Max, f.ChangeEverySteps, f.ChangeAtEpisodeEnd);
    }

    /// <summary>The settings a saved state must have been written with, field by field.</summary>
    private readonly record struct SavedSettings(string Env, int EnvStateVersion, int NumEnvs, int ObservationSize, int ActionSize,
        ObservationKind Observation, int MaxEpisodeSteps, double ResetNoise, PhysicsEngine Engine,
        FrictionProtocol Protocol, double ConstantFriction, double Log10Min, double Log10Max, long ChangeEverySteps, bool ChangeAtEpisodeEnd)
    {
        public void Write(BinaryWriter w)
        {
            w.Write(Env);
            w.Write(EnvStateVersion);
            w.Write(NumEnvs);
            w.Write(ObservationSize);
            w.Write(ActionSize);
            w.Write((int)Observation);
            w.Write(MaxEpisodeSteps);
            w.Write(ResetNoise);
            w.Write((int)Engine);
            w.Write((int)Protocol);
            w.Write(ConstantFriction);
            w.Write(Log10Min);
            w.Write(Log10Max);
            w.Write(ChangeEverySteps);
            w.Write(ChangeAtEpisodeEnd);
        }

        /// <summary>
        /// Version 3 as <see cref="Write"/> writes it. Versions 1 and 2 were the Ant's alone: no env name, state version
        /// or action size (the Ant's 8), the engine last and only in version 2 (Bullet; version 1 is MuJoCo).
        /// </summary>
        public static SavedSettings Read(BinaryReader r, int version)
        {
            if (version == StateVersion)
                return new(r.ReadString(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), (ObservationKind)r.ReadInt32(), r.ReadInt32(),
                    r.ReadDouble(), (PhysicsEngine)r.ReadInt32(), (FrictionProtocol)r.ReadInt32(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(),
                    r.ReadInt64(), r.ReadBoolean());
            int n = r.ReadInt32(), obs = r.ReadInt32(), kind = r.ReadInt32(), max = r.ReadInt32();
            double noise = r.ReadDouble();
            int protocol = r.ReadInt32();
            double c = r.ReadDouble(), lo = r.ReadDouble(), hi = r.ReadDouble();
            long every = r.ReadInt64();
            bool atEnd = r.ReadBoolean();
            var engine = version == 2 ? (PhysicsEngine)r.ReadInt32() : PhysicsEngine.MuJoCo;
            string env = engine == PhysicsEngine.MuJoCo ? EnvRegistry.Ant : EnvRegistry.AntBullet;
            return new(env, version, n, obs, IAnt.Actuators, (ObservationKind)kind, max, noise, engine, (FrictionProtocol)protocol, c, lo, hi, every, atEnd);
        }

        public override string ToString() =>
            $"{Engine}: {NumEnvs} envs of {Env} (state v{EnvStateVersion}), obs {Observation}/{ObservationSize}, {ActionSize} actions, " +
            $"{MaxEpisodeSteps}-step episodes, reset noise {ResetNoise}, friction {Protocol} (constant {ConstantFriction}, " +
            $"log10 [{Log10Min}, {Log10Max}], every {ChangeEverySteps} steps{(ChangeAtEpisodeEnd ? " at episode end" : "")})";
    }

    public void Dispose()
    {
        _pool.Dispose();
        foreach (var e in _envs) e.Dispose();
    }
}
