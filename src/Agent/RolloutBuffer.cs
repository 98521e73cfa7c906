using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// One rollout: <see cref="Steps"/> steps of <see cref="Envs"/> envs, index [t, i] = t * Envs + i. Observations,
/// actions, log-probs and values live in CPU tensors (the update reads them as a [Steps*Envs, ...] batch without
/// copying); rewards and episode ends live in arrays for GAE.
/// </summary>
public sealed class RolloutBuffer : IDisposable
{
    public RolloutBuffer(int steps, int envs, int observationSize, int actionSize)
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

    public void Dispose()
    {
        Observations.Dispose();
        Actions.Dispose();
        LogProbs.Dispose();
        Values.Dispose();
    }
}
