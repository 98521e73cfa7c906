// TEMPORARY (trainer branch): the ppo branch delivers the real Rollout; replaced at merge.
using System.Diagnostics;
using CbpGpu.Agent.Networks;
using CbpGpu.Physics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// One rollout: <see cref="Steps"/> steps of <see cref="Envs"/> envs, index [t, i] = t * Envs + i. Observations,
/// actions, log-probs and values live in CPU tensors (the update reads them as a [Steps*Envs, ...] batch without
/// copying); rewards and episode ends live in arrays for GAE.
/// </summary>
public readonly record struct RolloutTimes(double EnvSeconds, double ActSeconds);

public sealed class Rollout : IDisposable
{
    public Rollout(int steps, int envs, int observationSize, int actionSize)
    {
        Steps = steps;
        Envs = envs;
        ObservationSize = observationSize;
        ActionSize = actionSize;
        Observations = zeros([steps, envs, observationSize], ScalarType.Float32);
        Actions = zeros([steps, envs, actionSize], ScalarType.Float32);
        LogProbs = zeros([steps, envs], ScalarType.Float32);
        Values = zeros([steps, envs], ScalarType.Float32);
        int n = steps * envs;
        Rewards = new float[n];
        Terminated = new bool[n];
        Truncated = new bool[n];
        TruncatedValues = new float[n];
        LastValues = new float[envs];
        Advantages = new float[n];
        Returns = new float[n];
    }

    public int Steps { get; }
    public int Envs { get; }
    public int ObservationSize { get; }
    public int ActionSize { get; }
    public int Size => Steps * Envs;

    /// <summary>[Steps, Envs, ObservationSize]: the observation each action was chosen from.</summary>
    public Tensor Observations { get; }

    /// <summary>[Steps, Envs, ActionSize]: the sampled (unclipped) actions.</summary>
    public Tensor Actions { get; }

    /// <summary>[Steps, Envs]: log pi_old(a|s) at sampling time.</summary>
    public Tensor LogProbs { get; }

    /// <summary>[Steps, Envs]: V_old(s) at sampling time.</summary>
    public Tensor Values { get; }

    public float[] Rewards { get; }
    public bool[] Terminated { get; }
    public bool[] Truncated { get; }

    /// <summary>V(last observation of the episode) where a step truncated; read only when bootstrapping truncation.</summary>
    public float[] TruncatedValues { get; }

    /// <summary>V(observation after the last step), per env: the bootstrap for unfinished episodes.</summary>
    public float[] LastValues { get; }

    public float[] Advantages { get; }
    public float[] Returns { get; }

    public Span<float> ObservationRow(int t) =>
        MemoryMarshal.Cast<byte, float>(Observations.bytes).Slice(t * Envs * ObservationSize, Envs * ObservationSize);

    public Span<float> ActionRow(int t) =>
        MemoryMarshal.Cast<byte, float>(Actions.bytes).Slice(t * Envs * ActionSize, Envs * ActionSize);

    public ReadOnlySpan<float> ValueSpan => MemoryMarshal.Cast<byte, float>(Values.bytes);

    public RolloutTimes Collect(VectorEnv env, ActorCritic nets, Generator generator, Device device, bool bootstrapTruncation, Action<int> afterStep)
    {
        int n = Envs;
        long envTicks = 0, actTicks = 0;
        for (int t = 0; t < Steps; t++)
        {
            long a0 = Stopwatch.GetTimestamp();
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                env.Observations.CopyTo(ObservationRow(t));
                var obs = Observations[t].to(device);
                var policy = nets.Policy(obs);
                var action = GaussianPolicy.Sample(policy.Mean, policy.LogStd, generator);
                Actions[t].copy_(action);
                LogProbs[t].copy_(GaussianPolicy.LogProb(action, policy.Mean, policy.LogStd));
                Values[t].copy_(nets.Value(obs).Value);
            }
            long e0 = Stopwatch.GetTimestamp();
            try
            {
                env.Step(ActionRow(t));
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException(e.Message.Split(" (Parameter")[0], e);
            }
            long e1 = Stopwatch.GetTimestamp();
            envTicks += e1 - e0;
            env.Rewards.CopyTo(Rewards, t * n);
            env.Terminated.CopyTo(Terminated, t * n);
            env.Truncated.CopyTo(Truncated, t * n);
            CheckFinite(env.Observations, "observation", env.ObservationSize, 0, env.TotalSteps);
            CheckFinite(env.Rewards, "reward", 1, 0, env.TotalSteps);
            int o = env.ObservationSize;
            for (int i = 0; i < n; i++)
                if (env.Terminated[i] || env.Truncated[i])
                    CheckFinite(env.FinalObservations.AsSpan(i * o, o), "final observation", o, i, env.TotalSteps);
            afterStep(t);
            if (bootstrapTruncation) ValueOfTruncated(t, env, nets, device);
            actTicks += Stopwatch.GetTimestamp() - e1 + (e0 - a0);
        }
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            long a0 = Stopwatch.GetTimestamp();
            var obs = tensor(env.Observations, [n, ObservationSize]).to(device);
            nets.Value(obs).Value.cpu().data<float>().CopyTo(LastValues);
            actTicks += Stopwatch.GetTimestamp() - a0;
        }
        return new RolloutTimes(envTicks / (double)Stopwatch.Frequency, actTicks / (double)Stopwatch.Frequency);
    }

    private static void CheckFinite(ReadOnlySpan<float> values, string what, int rowSize, int firstEnv, long step)
    {
        for (int k = 0; k < values.Length; k++)
            if (!float.IsFinite(values[k]))
                throw new InvalidDataException($"{what} of env {firstEnv + k / rowSize} is {values[k]} at step {step:N0}");
    }

    private void ValueOfTruncated(int t, VectorEnv env, ActorCritic nets, Device device)
    {
        int n = Envs, o = env.ObservationSize;
        int count = 0;
        for (int i = 0; i < n; i++)
            if (env.Truncated[i] && !env.Terminated[i]) count++;
        if (count == 0) return;
        var rows = new float[count * o];
        var which = new int[count];
        for (int i = 0, k = 0; i < n; i++)
            if (env.Truncated[i] && !env.Terminated[i])
            {
                env.FinalObservations.AsSpan(i * o, o).CopyTo(rows.AsSpan(k * o, o));
                which[k++] = i;
            }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = nets.Value(tensor(rows, [count, o]).to(device)).Value.cpu().data<float>().ToArray();
        for (int k = 0; k < count; k++) TruncatedValues[t * n + which[k]] = values[k];
    }

    public void Dispose()
    {
        Observations.Dispose();
        Actions.Dispose();
        LogProbs.Dispose();
        Values.Dispose();
    }
}
