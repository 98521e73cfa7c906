namespace CbpGpu.Physics;

/// <summary>
/// The friction values of a run and when they change. Value k (k = 0 is the value from step 0) comes from its own
/// RNG stream of the seed, so a schedule's state is just two numbers and any value can be looked up directly.
/// </summary>
public sealed class FrictionSchedule
{
    // Stream numbers far from the per-env streams (0..N-1) so env noise and friction draws never share a stream.
    private const ulong StreamBase = 0xF71C_7100_0000_0000UL;

    public FrictionSchedule(FrictionConfig config, ulong seed)
    {
        config.Validate();
        Config = config;
        Seed = seed;
    }

    public FrictionConfig Config { get; }
    public ulong Seed { get; private set; }

    /// <summary>How many times the friction has been redrawn (0 before the first change).</summary>
    public int Generation { get; private set; }

    /// <summary>
    /// Total env steps at the latest change (0 before the first). Under <see cref="EpisodeEnded"/> (one env, the authors'
    /// rule) it is the authors' <c>previous_change_time</c>: the 0-based index of the step whose episode end started the value.
    /// </summary>
    public long LastChangeStep { get; private set; }

    /// <summary>The newest value: what envs use now, or adopt at their next episode end under ChangeAtEpisodeEnd.</summary>
    public double Current => ValueAt(Generation);

    public double ValueAt(int generation)
    {
        if (Config.Protocol == FrictionProtocol.Constant) return Config.ConstantFriction;
        if (Config.Table is double[] table)
            return generation < table.Length ? table[generation]
                : throw new InvalidOperationException($"the friction table has {table.Length} values; change {generation} needs one more (the run should have been refused at its start)");
        var rng = new Rng(Seed, StreamBase + (ulong)generation);
        return Math.Pow(10.0, rng.Uniform(Config.Log10Min, Config.Log10Max));
    }

    /// <summary>
    /// Called once before each vector step that takes the summed env-step count from <paramref name="stepsBefore"/> to
    /// <paramref name="stepsAfter"/>; returns true when a new value starts.
    /// Mid-episode protocol: the value changes at exact multiples of ChangeEverySteps and applies from the first
    /// vector step that starts at or after that boundary. Episode-end protocol: once ChangeEverySteps have passed
    /// by the end of this step, a value is drawn and every env adopts it at its first episode end from this step on;
    /// the next period counts from here.
    /// </summary>
    public bool Advance(long stepsBefore, long stepsAfter)
    {
        if (Config.Protocol == FrictionProtocol.Constant) return false;
        bool changed = false;
        if (Config.ChangeAtEpisodeEnd)
        {
            if (stepsAfter - LastChangeStep >= Config.ChangeEverySteps)
            {
                Generation++;
                LastChangeStep = stepsAfter;
                changed = true;
            }
        }
        else
        {
            while (stepsBefore - LastChangeStep >= Config.ChangeEverySteps)
            {
                Generation++;
                LastChangeStep += Config.ChangeEverySteps;
                changed = true;
            }
        }
        return changed;
    }

    /// <summary>
    /// The authors' rule for one env (lop/rl/run_ppo.py; docs/friction.md#nature2024): called at every episode end of the
    /// env, after the step that takes the count to <paramref name="stepsAfter"/> (so the step's 0-based index is
    /// stepsAfter - 1); a new value starts, for the next episode, when that index is more than ChangeEverySteps past the
    /// previous change's index (0 at the start), and the next period counts from this index. Returns true when it starts.
    /// Used instead of <see cref="Advance"/>, never with it.
    /// </summary>
    public bool EpisodeEnded(long stepsAfter)
    {
        if (Config.Protocol == FrictionProtocol.Constant || !Config.ChangeAtEpisodeEnd) return false;
        long index = stepsAfter - 1;
        if (index - LastChangeStep <= Config.ChangeEverySteps) return false;
        Generation++;
        LastChangeStep = index;
        return true;
    }

    public void Write(BinaryWriter w)
    {
        w.Write(Seed);
        w.Write(Generation);
        w.Write(LastChangeStep);
    }

    public void Read(BinaryReader r)
    {
        ulong seed = r.ReadUInt64();
        int generation = r.ReadInt32();
        long last = r.ReadInt64();
        if (generation < 0 || last < 0) throw new InvalidDataException($"saved friction schedule is corrupt (generation {generation}, last change at step {last})");
        Seed = seed;
        Generation = generation;
        LastChangeStep = last;
    }
}
