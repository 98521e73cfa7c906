namespace CbpGpu.Physics;

/// <summary>
/// What a MuJoCo env saves before its MuJoCo state (the checkpoint's envs block, docs/formats.md#checkpointbin): its
/// RNG, its friction and the length and return of its episode so far, in that order. <see cref="MuJoCoEnv"/>
/// writes it for every MuJoCo env.
/// </summary>
internal readonly record struct EpisodeState(Rng Rng, double Friction, int Length, double Return)
{
    public void Write(BinaryWriter w)
    {
        Rng.Write(w);
        w.Write(Friction);
        w.Write(Length);
        w.Write(Return);
    }

    /// <summary>Reads a <see cref="Write"/>; throws <see cref="InvalidDataException"/> for a length outside 0..<paramref name="maxEpisodeSteps"/>.</summary>
    public static EpisodeState Read(BinaryReader r, int maxEpisodeSteps)
    {
        var rng = Rng.Read(r);
        double friction = r.ReadDouble();
        int length = r.ReadInt32();
        double ret = r.ReadDouble();
        if (length < 0 || length > maxEpisodeSteps)
            throw new InvalidDataException($"saved episode length {length} is outside 0..{maxEpisodeSteps}; the state was saved with other settings or is corrupt");
        return new EpisodeState(rng, friction, length, ret);
    }
}
