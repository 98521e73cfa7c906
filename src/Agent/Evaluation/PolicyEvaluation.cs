using System.Diagnostics;
using System.Runtime.InteropServices;
using CbpGpu.Agent.Networks;
using CbpGpu.Physics;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Evaluation;

/// <summary>What one evaluation found (docs/formats.md#evalcsv): K episodes of the mean action at one friction.</summary>
/// <param name="Step">Env steps of training when the weights were taken.</param>
/// <param name="Update">Updates done when the weights were taken.</param>
/// <param name="ElapsedSeconds">The run's wall time (all sessions) when the weights were taken.</param>
/// <param name="Seconds">Wall time the evaluation took on its worker.</param>
public sealed record EvalResult(
    long Step, int Update, double Friction, int Episodes, double ReturnMean, double ReturnStd, double ReturnMin, double ReturnMax,
    double LengthMean, double ElapsedSeconds, double Seconds);

/// <summary>
/// One evaluation as a pure function of its inputs (docs/evaluation.md#what-runs): a copy of the policy with the given
/// weights, K Ants of the run's task at the given friction, seeded from (run seed, step) alone, each stepped with the
/// policy's mean action (no sampling) until its episode ends (termination or the episode cap). The K episodes run side
/// by side and the policy always sees all K rows, finished ones included, so an episode's actions do not depend on
/// when the others end. Owns its networks and buffers; one thread uses it at a time.
/// </summary>
public sealed class PolicyEvaluation : IPolicyJob<EvalResult>
{
    // Mixed into the run seed so evaluation Ants draw from streams no training env, friction draw or learner stream uses.
    private const ulong EvalTag = 0xE7A1_5EED_0000_0000UL;

    private readonly EnvConfig _ant;
    private readonly int _observationSize, _actionSize;
    private readonly ulong _runSeed;
    private readonly int _episodes;
    private readonly ActorCritic _nets;
    private readonly Tensor _obs;               // [K, ObservationSize]: each Ant's current observation
    private readonly float[] _actions;          // [K * ActionSize]: the mean actions of the last forward pass
    private readonly double[] _returns;
    private readonly int[] _lengths;

    /// <param name="activation">The training networks' nonlinearity (the layout follows from the sizes).</param>
    public PolicyEvaluation(EnvConfig ant, int hiddenUnits, Activation activation, int episodes, ulong runSeed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(episodes, 1);
        _ant = ant;
        _runSeed = runSeed;
        _episodes = episodes;
        // Always on the CPU, whatever the training device: the snapshot is a CPU copy, and one small forward pass per
        // env step is what the CPU does best.
        (_observationSize, _actionSize) = EnvRegistry.Sizes(ant);
        _nets = new ActorCritic(_observationSize, hiddenUnits, _actionSize, CPU, activation);
        _obs = zeros([episodes, _observationSize], ScalarType.Float32);
        _actions = new float[episodes * _actionSize];
        _returns = new double[episodes];
        _lengths = new int[episodes];
    }

    public int ParameterCount => (int)_nets.Layout.TotalSize;

    /// <summary>
    /// The seed of the evaluation Ants at <paramref name="step"/>: Ant k draws its reset noise from stream k of it
    /// (docs/ppo.md#random-number-streams). A function of the run seed and the step only, so an evaluation is redone
    /// exactly after a resume and never touches the training envs' streams.
    /// </summary>
    public static ulong EpisodeSeed(ulong runSeed, long step) => Rng.SplitMix64(Rng.SplitMix64(runSeed ^ EvalTag) ^ (ulong)step);

    /// <summary>Runs the K episodes with <paramref name="weights"/> (the flat parameters, <see cref="FlatParameters.Data"/>'s layout).</summary>
    /// <exception cref="InvalidDataException">A non-finite observation or action (a diverged policy).</exception>
    public EvalResult Run(ReadOnlySpan<float> weights, double friction, long step, int update, double elapsedSeconds)
    {
        long start = Stopwatch.GetTimestamp();
        _nets.Parameters.CopyFrom(weights);
        int k = _episodes, o = _observationSize, a = _actionSize;
        var ants = new IEnv[k];
        try
        {
            ulong seed = EpisodeSeed(_runSeed, step);
            var obs = MemoryMarshal.Cast<byte, float>(_obs.bytes);
            for (int i = 0; i < k; i++)
            {
                ants[i] = EnvRegistry.Create(_ant, seed, i, friction);
                ants[i].WriteObservation(obs.Slice(i * o, o));
            }
            Array.Clear(_lengths);
            int running = k;
            while (running > 0)
            {
                MeanActions();
                for (int i = 0; i < k; i++)
                {
                    if (_lengths[i] > 0) continue;
                    var row = obs.Slice(i * o, o);
                    StepResult r;
                    try
                    {
                        r = ants[i].Step(_actions.AsSpan(i * a, a), row);
                    }
                    catch (ArgumentException e)
                    {
                        throw new InvalidDataException($"evaluation episode {i} at step {step:N0}: {Rollout.EnvRefusal(e)}", e);
                    }
                    foreach (float v in row)
                        if (!float.IsFinite(v)) throw new InvalidDataException($"evaluation episode {i} at step {step:N0}: observation value {v}");
                    if (!r.Terminated && !r.Truncated) continue;
                    _returns[i] = ants[i].EpisodeReturn;
                    _lengths[i] = ants[i].EpisodeLength;
                    running--;
                }
            }
        }
        finally
        {
            foreach (var ant in ants) ant?.Dispose();
        }
        double mean = 0, min = double.PositiveInfinity, max = double.NegativeInfinity, length = 0;
        for (int i = 0; i < k; i++)
        {
            mean += _returns[i];
            min = Math.Min(min, _returns[i]);
            max = Math.Max(max, _returns[i]);
            length += _lengths[i];
        }
        mean /= k;
        double squares = 0;
        for (int i = 0; i < k; i++) squares += (_returns[i] - mean) * (_returns[i] - mean);
        return new EvalResult(step, update, friction, k, mean, Math.Sqrt(squares / k), min, max, length / k, elapsedSeconds,
            Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>The policy's mean action for every row of <see cref="_obs"/>, into <see cref="_actions"/>.</summary>
    private void MeanActions()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var mean = _nets.Policy(_obs).Mean.contiguous();
        MemoryMarshal.Cast<byte, float>(mean.bytes).CopyTo(_actions);
    }

    public void Dispose()
    {
        _obs.Dispose();
        _nets.Dispose();
    }
}
