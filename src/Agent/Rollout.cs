using System.Diagnostics;
using System.Runtime.InteropServices;
using CbpGpu.Agent.Networks;
using CbpGpu.Physics;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>Where <see cref="Rollout.Collect"/> spent its time: stepping the envs, and everything else (acting, recording).</summary>
public readonly record struct RolloutTimes(double EnvSeconds, double ActSeconds);

/// <summary>
/// One rollout: <see cref="Steps"/> steps of <see cref="Envs"/> envs, and how it is collected.
/// Every per-step quantity is a CPU tensor of shape [Steps, Envs, ...], index [t, i] = t * Envs + i (episode flags as
/// Bool tensors). One representation because the two kinds of readers want the same memory: the update takes the whole
/// rollout as one [Steps * Envs, ...] batch (a view and one transfer per quantity, nothing gathered from managed arrays),
/// while the env copies and the GAE loop work element-wise on spans over the tensors' own storage (contiguous, never
/// moved by libtorch), so nothing is kept twice.
/// </summary>
public sealed unsafe class Rollout : IDisposable
{
    private readonly Tensor _valueInput;     // [Envs, ObservationSize]: observations valued outside the rollout rows
    private readonly int[] _truncatedEnvs;   // which env each _valueInput row came from
    private readonly float[] _truncatedValues;   // V of the _valueInput rows
    private readonly Tensor _noise;          // [Steps, Envs, ActionSize]: the rollout's N(0, 1) action noise, drawn at its start
    private Tensor? _parameterCopy;          // the parameters on the CPU, when the networks live on another device
    private ActingForward? _acting;
    // The rollout tensors' CPU storage, fixed for their lifetime: the per-step spans without a call into libtorch.
    private readonly float* _observations, _actions, _logProbs, _policyH1, _policyH2, _values, _noiseValues, _rewards,
        _truncatedValueRows, _valueInputRows;
    private readonly bool* _terminated, _truncated;

    public Rollout(int steps, int envs, int observationSize, int actionSize, int hiddenUnits)
    {
        Steps = steps;
        Envs = envs;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        Observations = zeros([steps, envs, observationSize], ScalarType.Float32);
        Actions = zeros([steps, envs, actionSize], ScalarType.Float32);
        LogProbs = zeros([steps, envs], ScalarType.Float32);
        PolicyH1 = zeros([steps, envs, hiddenUnits], ScalarType.Float32);
        PolicyH2 = zeros([steps, envs, hiddenUnits], ScalarType.Float32);
        Values = zeros([steps, envs], ScalarType.Float32);
        Rewards = zeros([steps, envs], ScalarType.Float32);
        Terminated = zeros([steps, envs], ScalarType.Bool);
        Truncated = zeros([steps, envs], ScalarType.Bool);
        TruncatedValues = zeros([steps, envs], ScalarType.Float32);
        LastValues = zeros([envs], ScalarType.Float32);
        Advantages = zeros([steps, envs], ScalarType.Float32);
        Returns = zeros([steps, envs], ScalarType.Float32);
        _valueInput = zeros([envs, observationSize], ScalarType.Float32);
        _truncatedEnvs = new int[envs];
        _truncatedValues = new float[envs];
        _noise = zeros([steps, envs, actionSize], ScalarType.Float32);
        _observations = Address<float>(Observations);
        _actions = Address<float>(Actions);
        _logProbs = Address<float>(LogProbs);
        _policyH1 = Address<float>(PolicyH1);
        _policyH2 = Address<float>(PolicyH2);
        _values = Address<float>(Values);
        _noiseValues = Address<float>(_noise);
        _rewards = Address<float>(Rewards);
        _truncatedValueRows = Address<float>(TruncatedValues);
        _valueInputRows = Address<float>(_valueInput);
        _terminated = Address<bool>(Terminated);
        _truncated = Address<bool>(Truncated);
        HiddenUnits = hiddenUnits;
    }

    private static T* Address<T>(Tensor t) where T : unmanaged
    {
        fixed (byte* p = t.bytes) return (T*)p;
    }

    public int Steps { get; }
    public int Envs { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int HiddenUnits { get; }
    public int Size => Steps * Envs;

    /// <summary>[Steps, Envs, ObservationSize]: the observation each action was chosen from.</summary>
    public Tensor Observations { get; }

    /// <summary>[Steps, Envs, ActionSize]: the sampled (unclipped) actions.</summary>
    public Tensor Actions { get; }

    /// <summary>[Steps, Envs]: log pi_old(a|s) at sampling time.</summary>
    public Tensor LogProbs { get; }

    /// <summary>[Steps, Envs, hidden]: the policy's first hidden layer after its nonlinearity, in the forward that chose the action (docs/ppo.md#acting-diagnostics).</summary>
    public Tensor PolicyH1 { get; }

    /// <summary>[Steps, Envs, hidden]: the policy's second (last) hidden layer, likewise.</summary>
    public Tensor PolicyH2 { get; }

    /// <summary>[Steps, Envs]: V_old(s) at sampling time.</summary>
    public Tensor Values { get; }

    /// <summary>[Steps, Envs]</summary>
    public Tensor Rewards { get; }

    /// <summary>[Steps, Envs], Bool: the episode ended in a terminal state at this step.</summary>
    public Tensor Terminated { get; }

    /// <summary>[Steps, Envs], Bool: the episode hit the time limit at this step.</summary>
    public Tensor Truncated { get; }

    /// <summary>[Steps, Envs]: V(final observation) where an episode was truncated and not terminated, when bootstrapping truncation; 0 elsewhere.</summary>
    public Tensor TruncatedValues { get; }

    /// <summary>[Envs]: V(observation after the last step), the bootstrap of unfinished episodes.</summary>
    public Tensor LastValues { get; }

    /// <summary>[Steps, Envs]: written by GAE.</summary>
    public Tensor Advantages { get; }

    /// <summary>[Steps, Envs]: advantages + values, the value targets; written by GAE.</summary>
    public Tensor Returns { get; }

    public Span<float> PolicyH1Span => Floats(PolicyH1);
    public Span<float> PolicyH2Span => Floats(PolicyH2);
    public Span<float> RewardSpan => Floats(Rewards);
    public Span<float> ValueSpan => Floats(Values);
    public Span<float> LastValueSpan => Floats(LastValues);
    public Span<bool> TerminatedSpan => MemoryMarshal.Cast<byte, bool>(Terminated.bytes);
    public Span<bool> TruncatedSpan => MemoryMarshal.Cast<byte, bool>(Truncated.bytes);
    public Span<float> TruncatedValueSpan => Floats(TruncatedValues);
    public Span<float> AdvantageSpan => Floats(Advantages);
    public Span<float> ReturnSpan => Floats(Returns);

    private static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>
    /// Fills the rollout: draws the whole rollout's action noise from <paramref name="generator"/> (one call); for each of
    /// <see cref="Steps"/> steps, acts with the current networks on <see cref="VectorEnv.Observations"/> through
    /// <see cref="ActingForward"/> (docs/ppo.md#acting-forward), steps <paramref name="env"/> and
    /// records the transition; then V(env.Observations) as the bootstrap of unfinished episodes. After every env step
    /// calls <paramref name="afterStep"/>(t), when the env still shows that step's outcome (episodes that ended...).
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// A non-finite observation, reward, final observation or action (which the env refuses); the message names the
    /// quantity, the env and the env step, so that the caller can add which update it was.
    /// </exception>
    public RolloutTimes Collect(VectorEnv env, ActorCritic nets, Generator generator, Device device, bool bootstrapTruncation, Action<int> afterStep)
    {
        long envTicks = 0, actTicks = 0;
        long s0 = Stopwatch.GetTimestamp();
        TruncatedValueSpan.Clear();
        var acting = ActingFor(nets);
        var parameters = ActingParameters(nets, device);
        DrawNoise(generator);
        actTicks += Stopwatch.GetTimestamp() - s0;
        for (int t = 0; t < Steps; t++)
        {
            long a0 = Stopwatch.GetTimestamp();
            Act(t, env.Observations, acting, parameters);
            long e0 = Stopwatch.GetTimestamp();
            Step(env, t);
            long e1 = Stopwatch.GetTimestamp();
            envTicks += e1 - e0;
            Record(t, env);
            if (bootstrapTruncation) ValueOfTruncated(t, env, acting, parameters);
            actTicks += Stopwatch.GetTimestamp() - e1 + (e0 - a0);
            afterStep(t);
        }
        long l0 = Stopwatch.GetTimestamp();
        acting.Value(parameters, env.Observations, Envs, LastValueSpan);
        actTicks += Stopwatch.GetTimestamp() - l0;
        return new RolloutTimes(envTicks / (double)Stopwatch.Frequency, actTicks / (double)Stopwatch.Frequency);
    }

    private ActingForward ActingFor(ActorCritic nets)
    {
        if (_acting is null || !ReferenceEquals(_acting.Layout, nets.Layout) || _acting.Activation != nets.Activation)
            _acting = new ActingForward(nets.Layout, nets.Activation, Envs);
        return _acting;
    }

    /// <summary>The flat parameters as CPU floats: their own storage on the CPU, else a copy taken now (the update does not run during a rollout).</summary>
    private ReadOnlySpan<float> ActingParameters(ActorCritic nets, Device device)
    {
        var data = nets.Parameters.Data;
        if (device.type == DeviceType.CPU) return Floats(data);
        _parameterCopy ??= zeros(data.shape, ScalarType.Float32);
        using (no_grad()) _parameterCopy.copy_(data);
        return Floats(_parameterCopy);
    }

    /// <summary>N(0, 1) noise for every action of the rollout, [Steps, Envs, ActionSize], in one draw from <paramref name="generator"/> (docs/ppo.md#random-number-streams).</summary>
    private void DrawNoise(Generator generator)
    {
        using var scope = NewDisposeScope();
        _noise.copy_(randn([Steps, Envs, ActionSize], ScalarType.Float32, CPU, generator: generator));
    }

    private static Span<float> Rows(float* start, int row, int rowSize) => new(start + (long)row * rowSize, rowSize);

    /// <summary>Observation, sampled action, its log-probability, the policy's hidden activations and the value of step <paramref name="t"/>.</summary>
    private void Act(int t, ReadOnlySpan<float> observations, ActingForward acting, ReadOnlySpan<float> parameters)
    {
        var obs = Rows(_observations, t, Envs * ObservationSize);
        observations.CopyTo(obs);
        acting.Policy(parameters, obs, Envs, Rows(_noiseValues, t, Envs * ActionSize), Rows(_actions, t, Envs * ActionSize),
            Rows(_logProbs, t, Envs), Rows(_policyH1, t, Envs * HiddenUnits), Rows(_policyH2, t, Envs * HiddenUnits));
        acting.Value(parameters, obs, Envs, Rows(_values, t, Envs));
    }

    private void Step(VectorEnv env, int t)
    {
        try
        {
            env.Step(Rows(_actions, t, Envs * ActionSize));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{EnvRefusal(e)} (at step {env.TotalSteps:N0})", e);
        }
    }

    /// <summary>
    /// What an env said when it refused an input (a non-finite action), for a user-facing message: ArgumentException's
    /// Message ends in the parameter name, which means nothing to a user.
    /// </summary>
    internal static string EnvRefusal(ArgumentException e) => e.Message.Split(" (Parameter")[0];

    /// <summary>Reward and episode ends of step <paramref name="t"/>, after checking that what the env produced is finite.</summary>
    private void Record(int t, VectorEnv env)
    {
        int o = ObservationSize;
        CheckFinite(env.Observations, "observation", o, 0, env.TotalSteps);
        CheckFinite(env.Rewards, "reward", 1, 0, env.TotalSteps);
        for (int i = 0; i < Envs; i++)
            if (env.Terminated[i] || env.Truncated[i])
                CheckFinite(env.FinalObservations.AsSpan(i * o, o), "final observation", o, i, env.TotalSteps);
        env.Rewards.CopyTo(Rows(_rewards, t, Envs));
        env.Terminated.CopyTo(new Span<bool>(_terminated + (long)t * Envs, Envs));
        env.Truncated.CopyTo(new Span<bool>(_truncated + (long)t * Envs, Envs));
    }

    /// <summary>Rows of <paramref name="rowSize"/> values per env, the first of them env <paramref name="firstEnv"/>.</summary>
    private static void CheckFinite(ReadOnlySpan<float> values, string what, int rowSize, int firstEnv, long step)
    {
        for (int k = 0; k < values.Length; k++)
            if (!float.IsFinite(values[k]))
                throw new InvalidDataException($"{what} of env {firstEnv + k / rowSize} is {values[k]} at step {step:N0}");
    }

    /// <summary>
    /// V(final observation) of the episodes the time limit cut at step <paramref name="t"/> (and that did not also
    /// terminate), valued as one batch of just those rows in env order.
    /// </summary>
    private void ValueOfTruncated(int t, VectorEnv env, ActingForward acting, ReadOnlySpan<float> parameters)
    {
        int o = ObservationSize;
        var rows = Rows(_valueInputRows, 0, Envs * o);
        int count = 0;
        for (int i = 0; i < Envs; i++)
            if (env.Truncated[i] && !env.Terminated[i])
            {
                env.FinalObservations.AsSpan(i * o, o).CopyTo(rows.Slice(count * o, o));
                _truncatedEnvs[count++] = i;
            }
        if (count == 0) return;
        var read = _truncatedValues.AsSpan(0, count);
        acting.Value(parameters, rows, count, read);
        var write = Rows(_truncatedValueRows, t, Envs);
        for (int k = 0; k < count; k++) write[_truncatedEnvs[k]] = read[k];
    }

    public void Dispose()
    {
        Observations.Dispose();
        Actions.Dispose();
        LogProbs.Dispose();
        PolicyH1.Dispose();
        PolicyH2.Dispose();
        Values.Dispose();
        Rewards.Dispose();
        Terminated.Dispose();
        Truncated.Dispose();
        TruncatedValues.Dispose();
        LastValues.Dispose();
        Advantages.Dispose();
        Returns.Dispose();
        _valueInput.Dispose();
        _noise.Dispose();
        _parameterCopy?.Dispose();
    }
}
