using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using CbpGpu.Physics;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>Rollout.Collect on real MuJoCo Ants with real (small) networks: what it records, and truncation bootstrapping.</summary>
public sealed class RolloutTests : IDisposable
{
    private const int Envs = 4, Steps = 12, EpisodeSteps = 5;
    private const double Gamma = 0.99, Lambda = 0.95;

    private readonly VectorEnv _env = new(Envs, new EnvConfig(MaxEpisodeSteps: EpisodeSteps), FrictionConfig.Constant(1.0), seed: 11, threads: 2);
    private readonly ActorCritic _nets;
    private readonly Generator _generator = new(5);
    private readonly Rollout _rollout;

    public RolloutTests()
    {
        _nets = new ActorCritic(_env.ObservationSize, 32, _env.ActionSize, CPU);
        using (var init = new Generator(9)) _nets.Parameters.Initialize(init);
        _rollout = new Rollout(Steps, Envs, _env.ObservationSize, _env.ActionSize, 32);
    }

    public void Dispose()
    {
        _rollout.Dispose();
        _generator.Dispose();
        _nets.Dispose();
        _env.Dispose();
    }

    private float Value(float[] observation)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return _nets.Value(tensor(observation, [1, observation.Length])).Value.item<float>();
    }

    private static void Close(double expected, double actual) => Assert.Equal(expected, actual, 1e-5 * Math.Max(1, Math.Abs(expected)));

    private static float At(Tensor t, int step, int env) => t[step, env].item<float>();

    private static bool Flag(Tensor t, int step, int env) => t[step, env].item<bool>();

    /// <summary>What the env showed after a step in which an episode was cut by the time limit (and did not terminate).</summary>
    private sealed record Truncation(int Step, int Env, float[] FinalObservation, float[] ResetObservation);

    private List<Truncation> CollectRecordingTruncations(bool bootstrapTruncation)
    {
        var truncations = new List<Truncation>();
        int o = _env.ObservationSize;
        _rollout.Collect(_env, _nets, _generator, CPU, bootstrapTruncation, t =>
        {
            for (int i = 0; i < Envs; i++)
                if (_env.Truncated[i] && !_env.Terminated[i])
                    truncations.Add(new Truncation(t, i, _env.FinalObservations.AsSpan(i * o, o).ToArray(), _env.Observations.AsSpan(i * o, o).ToArray()));
        });
        // 5-step episodes in a 12-step rollout: every env is cut at steps 4 and 9 unless it fell over first.
        Assert.True(truncations.Count >= Envs, $"expected a truncation in every env, got {truncations.Count}");
        return truncations;
    }

    private void Gae(bool bootstrapTruncation) =>
        PpoUpdate.Gae(Steps, Envs, _rollout.RewardSpan, _rollout.ValueSpan, _rollout.LastValueSpan,
            _rollout.TerminatedSpan, _rollout.TruncatedSpan, _rollout.TruncatedValueSpan,
            Gamma, Lambda, bootstrapTruncation, _rollout.AdvantageSpan, _rollout.ReturnSpan);

    [Fact]
    public void TruncationBootstrapsExactlyTheValueOfTheTruncatedEpisodesFinalObservation()
    {
        // A rollout before this one cut episodes at other steps (12 is no multiple of 5); none of its values may remain.
        _rollout.Collect(_env, _nets, _generator, CPU, true, _ => { });
        var truncations = CollectRecordingTruncations(bootstrapTruncation: true);
        Gae(bootstrapTruncation: true);
        foreach (var (t, i, final, reset) in truncations)
        {
            float vFinal = Value(final);
            Assert.True(Math.Abs(vFinal - Value(reset)) > 1e-3, "the final and the reset observation must be told apart by their values");
            Close(vFinal, At(_rollout.TruncatedValues, t, i));
            // A truncation cuts the trace: A_t = r_t + gamma * V(final observation) - V(s_t), nothing from later steps.
            double expected = At(_rollout.Rewards, t, i) + Gamma * vFinal - At(_rollout.Values, t, i);
            Close(expected, At(_rollout.Advantages, t, i));
            Close(expected + At(_rollout.Values, t, i), At(_rollout.Returns, t, i));
        }
        // Nowhere else is a value of an ended episode's last observation kept.
        for (int t = 0; t < Steps; t++)
            for (int i = 0; i < Envs; i++)
                if (!truncations.Exists(x => x.Step == t && x.Env == i))
                    Assert.Equal(0f, At(_rollout.TruncatedValues, t, i));
    }

    [Fact]
    public void RecordsThePolicysHiddenActivationsOfTheForwardThatChoseEachAction()
    {
        _rollout.Collect(_env, _nets, _generator, CPU, false, _ => { });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var policy = _nets.Policy(_rollout.Observations.reshape(Steps * Envs, -1));
        Assert.True(policy.H1.allclose(_rollout.PolicyH1.reshape(Steps * Envs, -1), rtol: 1e-6, atol: 1e-6));
        Assert.True(policy.H2.allclose(_rollout.PolicyH2.reshape(Steps * Envs, -1), rtol: 1e-6, atol: 1e-6));
        Assert.True(_rollout.PolicyH2.gt(0).any().item<bool>() && _rollout.PolicyH2.eq(0).any().item<bool>(), "expected ReLU outputs, some zero");
    }

    [Fact]
    public void WithoutBootstrappingATruncationIsValuedZeroLikeATermination()
    {
        var truncations = CollectRecordingTruncations(bootstrapTruncation: false);
        Gae(bootstrapTruncation: false);
        Assert.All(_rollout.TruncatedValueSpan.ToArray(), v => Assert.Equal(0f, v));
        foreach (var (t, i, _, _) in truncations)
            Close(At(_rollout.Rewards, t, i) - At(_rollout.Values, t, i), At(_rollout.Advantages, t, i));
    }

    [Fact]
    public void RecordsWhatTheEnvShowedAndBootstrapsFromTheObservationAfterTheLastStep()
    {
        int o = _env.ObservationSize;
        float[] first = (float[])_env.Observations.Clone();
        var shown = new List<(float[] Observations, float[] Rewards, bool[] Terminated, bool[] Truncated)>();
        _rollout.Collect(_env, _nets, _generator, CPU, false, _ =>
            shown.Add(((float[])_env.Observations.Clone(), (float[])_env.Rewards.Clone(), (bool[])_env.Terminated.Clone(), (bool[])_env.Truncated.Clone())));

        Assert.Equal(Steps, shown.Count);
        Assert.Equal(first, _rollout.Observations[0].data<float>().ToArray());
        for (int t = 0; t < Steps; t++)
        {
            if (t + 1 < Steps) Assert.Equal(shown[t].Observations, _rollout.Observations[t + 1].data<float>().ToArray());
            Assert.Equal(shown[t].Rewards, _rollout.Rewards[t].data<float>().ToArray());
            Assert.Equal(shown[t].Terminated, _rollout.Terminated[t].data<bool>().ToArray());
            Assert.Equal(shown[t].Truncated, _rollout.Truncated[t].data<bool>().ToArray());
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var policy = _nets.Policy(_rollout.Observations[t]);
            var logProbs = GaussianPolicy.LogProb(_rollout.Actions[t], policy.Mean, policy.LogStd).data<float>().ToArray();
            var values = _nets.Value(_rollout.Observations[t]).Value.data<float>().ToArray();
            for (int i = 0; i < Envs; i++)
            {
                Close(logProbs[i], At(_rollout.LogProbs, t, i));
                Close(values[i], At(_rollout.Values, t, i));
            }
        }
        for (int i = 0; i < Envs; i++)
            Close(Value(shown[^1].Observations.AsSpan(i * o, o).ToArray()), _rollout.LastValues[i].item<float>());
    }

    [Fact]
    public void ANonFiniteActionIsRefusedWithTheEnvAndStepInTheMessage()
    {
        using (no_grad()) _nets.Parameters.Data.fill_(float.NaN);
        var e = Assert.Throws<InvalidDataException>(() => _rollout.Collect(_env, _nets, _generator, CPU, false, _ => { }));
        Assert.StartsWith("action 0 of env 0 is NaN", e.Message);
        Assert.Contains("at step 0", e.Message);
        Assert.Equal(0, _env.TotalSteps);
    }
}
