namespace CbpGpu.Physics;

/// <summary>
/// A <see cref="FrictionSchedule"/> applied to N envs of any kind through <see cref="IEnv.Friction"/> (docs/friction.md):
/// which value is current, which each env uses, and when each adopts a new one. <see cref="VectorEnv"/> calls it around
/// its steps; it knows nothing of what the friction means for a body.
/// </summary>
public sealed class ScheduledFriction
{
    private readonly int[] _envGeneration;     // schedule generation whose friction each env uses
    private int _generation;                   // published to workers before each dispatch
    private double _friction;
    // One env under an episode-end protocol follows the authors' rule exactly (docs/friction.md#nature2024); N envs
    // share the summed clock of FrictionSchedule.Advance.
    private readonly bool _authorsRule;

    public ScheduledFriction(FrictionConfig config, ulong seed, int numEnvs)
    {
        Schedule = new FrictionSchedule(config, seed);
        _authorsRule = numEnvs == 1 && config.ChangeAtEpisodeEnd;
        _friction = Schedule.Current;
        _envGeneration = new int[numEnvs];
        Frictions = new double[numEnvs];
        Array.Fill(Frictions, _friction);
    }

    public FrictionSchedule Schedule { get; }

    /// <summary>The value new envs start with and envs adopt.</summary>
    public double Current => _friction;

    /// <summary>Friction in effect now, per env.</summary>
    public double[] Frictions { get; }

    /// <summary>Makes the schedule's newest value the one envs adopt.</summary>
    public void Publish()
    {
        _generation = Schedule.Generation;
        _friction = Schedule.Current;
    }

    /// <summary>
    /// Before a vector step that takes the summed count from <paramref name="before"/> to <paramref name="after"/>:
    /// advances the summed clock (not under the authors' rule) and, mid-episode protocols, switches every env at once.
    /// </summary>
    public void BeforeStep(long before, long after, IEnv[] envs)
    {
        if (_authorsRule || !Schedule.Advance(before, after)) return;
        Publish();
        if (!Schedule.Config.ChangeAtEpisodeEnd)
            for (int i = 0; i < envs.Length; i++) Adopt(i, envs[i]);
    }

    /// <summary>Env <paramref name="i"/> ended an episode in the step that took the count to <paramref name="stepsAfter"/>; it adopts the current value before its reset.</summary>
    public void EpisodeEnded(int i, IEnv env, long stepsAfter)
    {
        // One env: the authors' change rule, checked at its own episode ends (only one worker ever gets here).
        if (_authorsRule && Schedule.EpisodeEnded(stepsAfter)) Publish();
        Adopt(i, env);
    }

    /// <summary>Env <paramref name="i"/> takes the current value if it does not have it yet.</summary>
    public void Adopt(int i, IEnv env)
    {
        if (_envGeneration[i] == _generation) return;
        env.Friction = _friction;
        _envGeneration[i] = _generation;
        Frictions[i] = _friction;
    }

    public void WriteGeneration(BinaryWriter w, int i) => w.Write(_envGeneration[i]);

    /// <summary>Reads env <paramref name="i"/>'s generation (after the schedule's state); the env's own state carries its friction.</summary>
    public void ReadGeneration(BinaryReader r, int i)
    {
        int generation = r.ReadInt32();
        if (generation < 0 || generation > Schedule.Generation)
            throw new InvalidDataException($"env {i} uses friction generation {generation} but the schedule is at {Schedule.Generation}; the state is corrupt");
        _envGeneration[i] = generation;
    }

    /// <summary>After an env's state was read: the friction it saved is the one in effect.</summary>
    public void Restored(int i, IEnv env) => Frictions[i] = env.Friction;
}
