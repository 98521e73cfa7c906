namespace CbpGpu.Physics;

/// <summary>
/// One Ant of either engine as <see cref="VectorEnv"/>, replay and the benches drive it: its own physics, friction,
/// reset noise stream and episode bookkeeping. Env i of VectorEnv(seed) equals <c>Create(config, seed, i, friction)</c>.
/// </summary>
public unsafe interface IAnt : IDisposable
{
    public const int ActionSize = 8;

    AntConfig Config { get; }
    int ObservationSize { get; }
    /// <summary>Steps taken in the current episode.</summary>
    int EpisodeLength { get; }
    /// <summary>Sum of the rewards of the current episode.</summary>
    double EpisodeReturn { get; }
    /// <summary>The friction the schedule sets: every geom's on MuJoCo, the floor's lateral friction on Bullet.</summary>
    double Friction { get; set; }

    /// <summary>Starts a new episode; writes its first observation if given room.</summary>
    void Reset(Span<float> observation);

    /// <summary>One env step with checked arguments.</summary>
    StepResult Step(ReadOnlySpan<float> action, Span<float> observation);

    /// <summary>The step proper; the caller has checked that the 8 actions are finite and that obs has room.</summary>
    StepResult StepUnchecked(float* action, float* observation);

    /// <summary>The current observation.</summary>
    void WriteObservation(Span<float> observation);

    void WriteState(BinaryWriter w);
    void ReadState(BinaryReader r);

    /// <summary>The Ant of <paramref name="config"/>'s engine.</summary>
    public static IAnt Create(AntConfig config, ulong seed, int index, double friction) => config.Engine == PhysicsEngine.MuJoCo
        ? new SlipperyAnt(config, seed, index, friction)
        : new BulletAnt(config, seed, index, friction);
}
