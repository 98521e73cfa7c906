namespace CbpGpu.Physics;

/// <summary>
/// One environment as <see cref="VectorEnv"/>, replay, evaluation and the benches drive it (docs/extending.md#adding-an-environment):
/// its own physics, its one schedulable parameter (ground friction), its own reset-noise stream and its episode
/// bookkeeping. Sizes are properties of the instance. Env i of a VectorEnv(seed) equals
/// <c>EnvRegistry.Create(config, seed, i, friction)</c>. Auto-reset is the caller's choice.
/// </summary>
public unsafe interface IEnv : IDisposable
{
    EnvConfig Config { get; }
    int ObservationSize { get; }
    int ActionSize { get; }
    /// <summary>Steps taken in the current episode.</summary>
    int EpisodeLength { get; }
    /// <summary>Sum of the rewards of the current episode.</summary>
    double EpisodeReturn { get; }
    /// <summary>
    /// The ground friction, the parameter a friction schedule changes; what it sets is each env's own (its spec's
    /// summary and docs say). A new value takes effect on the next physics step.
    /// </summary>
    double Friction { get; set; }

    /// <summary>Starts a new episode; writes its first observation if given room.</summary>
    void Reset(Span<float> observation);

    /// <summary>One env step with checked arguments.</summary>
    StepResult Step(ReadOnlySpan<float> action, Span<float> observation);

    /// <summary>The step proper; the caller has checked that the ActionSize actions are finite and that obs has room.</summary>
    StepResult StepUnchecked(float* action, float* observation);

    /// <summary>The current observation.</summary>
    void WriteObservation(Span<float> observation);

    /// <summary>Version of what <see cref="WriteState"/> writes; bump it when the layout changes.</summary>
    int StateVersion { get; }

    /// <summary>Why a saved state of an older <paramref name="version"/> cannot be continued by this build, and what to do; null when there is no such reason.</summary>
    string? WhyStateVersionRefused(int version) => null;

    /// <summary>Everything later steps depend on, so an env built with the same config resumes bit for bit.</summary>
    void WriteState(BinaryWriter w);

    /// <summary>Reads a <see cref="WriteState"/> of version <see cref="StateVersion"/>; InvalidDataException when it does not fit.</summary>
    void ReadState(BinaryReader r);

    /// <summary>The checks of <see cref="Step"/>, for implementations: action count and finiteness, observation room.</summary>
    public static void CheckStep(IEnv env, ReadOnlySpan<float> action, Span<float> observation)
    {
        if (action.Length != env.ActionSize) throw new ArgumentException($"an action of {env.Config.Id} has {env.ActionSize} values, got {action.Length}", nameof(action));
        for (int k = 0; k < action.Length; k++)
            if (!float.IsFinite(action[k]))
                throw new ArgumentException($"action[{k}] is {action[k]}; actions must be finite", nameof(action));
        if (observation.Length != env.ObservationSize) throw new ArgumentException($"the observation needs {env.ObservationSize} floats, got {observation.Length}", nameof(observation));
    }
}
