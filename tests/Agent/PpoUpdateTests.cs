using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Physics;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// What the minibatch losses of a real update see. With learning rate 0 the networks do not move during the update, so
/// the mean of the minibatch losses must equal the loss over the whole batch exactly when the minibatches partition
/// the batch and the advantages are normalised over the batch (not per minibatch).
/// </summary>
public sealed class PpoUpdateTests : IDisposable
{
    private const int Envs = 8, Steps = 32, Batch = Envs * Steps;

    private readonly VectorEnv _env = new(Envs, new EnvConfig(MaxEpisodeSteps: 20), FrictionConfig.Constant(1.0), seed: 4, threads: 2);
    private readonly ActorCritic _nets;
    private readonly Generator _generator = new(6);
    private readonly Rollout _rollout;

    public PpoUpdateTests()
    {
        _rollout = new Rollout(Steps, Envs, _env.ObservationSize, _env.ActionSize, 32);
        _nets = new ActorCritic(_env.ObservationSize, 32, _env.ActionSize, CPU);
        using (var init = new Generator(8)) _nets.Parameters.Initialize(init);
        _rollout.Collect(_env, _nets, _generator, CPU, false, _ => { });
    }

    public void Dispose()
    {
        _rollout.Dispose();
        _generator.Dispose();
        _nets.Dispose();
        _env.Dispose();
    }

    private static double Mean(double[] x) => x.Average();

    /// <summary>Unbiased, as torch's std.</summary>
    private static double Std(double[] x)
    {
        double mean = x.Average();
        return Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1));
    }

    private static double[] ToDoubles(Tensor t) => t.to(ScalarType.Float64).data<double>().ToArray();

    [Fact]
    public void MinibatchLossesSeeBatchNormalisedAdvantagesAndEverySampleOncePerEpoch()
    {
        var settings = PpoSettings.For(PpoMethod.Standard) with { BatchSize = Batch, Epochs = 3, Minibatches = 4 };
        // The policy moved since the rollout (as it does from the second epoch on), so the ratios spread and some clip.
        using (no_grad()) _nets.Parameters[_nets.Layout.LogStd].add_(0.3);
        using var optimizer = new TorchAdamOptimizer(_nets.Parameters, settings.Adam with { LearningRate = 0 });
        using var update = new PpoUpdate(_nets, optimizer, null, settings, _generator, CPU);
        var stats = update.Run(_rollout);

        double[] advantages = _rollout.AdvantageSpan.ToArray().Select(a => (double)a).ToArray();
        double[] returns = _rollout.ReturnSpan.ToArray().Select(a => (double)a).ToArray();
        double mean = Mean(advantages), std = Std(advantages);
        double[] ratio, value;
        using (NewDisposeScope())
        using (no_grad())
        {
            var obs = _rollout.Observations.view(Batch, -1);
            var policy = _nets.Policy(obs);
            var logProbs = GaussianPolicy.LogProb(_rollout.Actions.view(Batch, -1), policy.Mean, policy.LogStd);
            ratio = ToDoubles((logProbs - _rollout.LogProbs.view(Batch)).exp());
            value = ToDoubles(_nets.Value(obs).Value);
        }

        double policyLoss = 0, valueLoss = 0, unnormalisedPolicyLoss = 0;
        for (int k = 0; k < Batch; k++)
        {
            double a = (advantages[k] - mean) / (std + 1e-8);
            double clipped = Math.Clamp(ratio[k], 1 - settings.Clip, 1 + settings.Clip);
            policyLoss -= Math.Min(ratio[k] * a, clipped * a) / Batch;
            unnormalisedPolicyLoss -= Math.Min(ratio[k] * advantages[k], clipped * advantages[k]) / Batch;
            valueLoss += (value[k] - returns[k]) * (value[k] - returns[k]) / Batch;
        }
        Assert.True(Math.Abs(policyLoss - unnormalisedPolicyLoss) > 1e-2, "normalisation must change the loss here");
        Assert.Equal(policyLoss, stats.PolicyLoss, 1e-5);
        Assert.Equal(valueLoss, stats.ValueLoss, 1e-5 * valueLoss);
    }

    /// <summary>
    /// docs/ppo.md#epochs-and-minibatches, the report's learner: each minibatch scales its own advantages to mean 0 and
    /// std 1. With learning rate 0 and one epoch, the mean minibatch loss is recomputed by hand (float64) from the same
    /// permutation (the update's generator state copied beforehand) and differs from the batch-normalised loss.
    /// </summary>
    [Fact]
    public void MinibatchNormalisationScalesEachMinibatchOnItsOwn()
    {
        const int minibatches = 16, size = Batch / minibatches;
        var settings = PpoSettings.For(PpoMethod.Standard) with
        {
            BatchSize = Batch, Epochs = 1, Minibatches = minibatches, Advantages = AdvantageNormalization.Minibatch,
        };
        using (no_grad()) _nets.Parameters[_nets.Layout.LogStd].add_(0.3);
        using var optimizer = new TorchAdamOptimizer(_nets.Parameters, settings.Adam with { LearningRate = 0 });
        using var update = new PpoUpdate(_nets, optimizer, null, settings, _generator, CPU);
        using var sameDraws = new Generator(0);
        using (var state = _generator.get_state()) sameDraws.set_state(state);
        var stats = update.Run(_rollout);

        double[] advantages = _rollout.AdvantageSpan.ToArray().Select(a => (double)a).ToArray();
        double[] ratio;
        long[][] order;
        using (NewDisposeScope())
        using (no_grad())
        {
            var obs = _rollout.Observations.view(Batch, -1);
            var policy = _nets.Policy(obs);
            var logProbs = GaussianPolicy.LogProb(_rollout.Actions.view(Batch, -1), policy.Mean, policy.LogStd);
            ratio = ToDoubles((logProbs - _rollout.LogProbs.view(Batch)).exp());
            order = PpoUpdate.ShuffledMinibatches(Batch, minibatches, sameDraws, CPU).Select(m => m.data<long>().ToArray()).ToArray();
        }

        double PolicyLoss(Func<long[], double[]> scaled)
        {
            double loss = 0;
            foreach (var idx in order)
            {
                double[] a = scaled(idx);
                for (int k = 0; k < size; k++)
                {
                    double r = ratio[idx[k]], clipped = Math.Clamp(r, 1 - settings.Clip, 1 + settings.Clip);
                    loss -= Math.Min(r * a[k], clipped * a[k]) / size / minibatches;
                }
            }
            return loss;
        }
        double batchMean = Mean(advantages), batchStd = Std(advantages);
        double perMinibatch = PolicyLoss(idx =>
        {
            double[] a = idx.Select(i => advantages[i]).ToArray();
            double mean = Mean(a), std = Std(a);
            return a.Select(x => (x - mean) / (std + 1e-8)).ToArray();
        });
        double perBatch = PolicyLoss(idx => idx.Select(i => (advantages[i] - batchMean) / (batchStd + 1e-8)).ToArray());
        Assert.True(Math.Abs(perMinibatch - perBatch) > 1e-3, $"the two normalisations must differ here ({perMinibatch} vs {perBatch})");
        Assert.Equal(perMinibatch, stats.PolicyLoss, 1e-5);
    }

    [Fact]
    public void NormalizedAdvantagesHaveMeanZeroAndStdOne()
    {
        using var scope = NewDisposeScope();
        PpoUpdate.Gae(Steps, Envs, _rollout.RewardSpan, _rollout.ValueSpan, _rollout.LastValueSpan,
            _rollout.TerminatedSpan, _rollout.TruncatedSpan, _rollout.TruncatedValueSpan,
            0.99, 0.95, false, _rollout.AdvantageSpan, _rollout.ReturnSpan);
        double[] raw = ToDoubles(_rollout.Advantages.view(Batch));
        double[] a = ToDoubles(PpoUpdate.NormalizeAdvantages(_rollout.Advantages.view(Batch)));
        Assert.True(Math.Abs(Mean(raw)) > 1e-2 || Math.Abs(Std(raw) - 1) > 1e-2, "the raw advantages must not be normalised already");
        Assert.Equal(0, Mean(a), 5);
        Assert.Equal(1, Std(a), 5);
    }

    [Fact]
    public void EachEpochsMinibatchesCoverEverySampleExactlyOnceInAFreshOrder()
    {
        using var scope = NewDisposeScope();
        long[]? previous = null;
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var minibatches = PpoUpdate.ShuffledMinibatches(Batch, 4, _generator, CPU);
            Assert.Equal(4, minibatches.Length);
            Assert.All(minibatches, m => Assert.Equal([Batch / 4L], m.shape));
            long[] order = cat(minibatches, 0).data<long>().ToArray();
            Assert.Equal(Enumerable.Range(0, Batch).Select(i => (long)i), order.Order());
            if (previous is not null) Assert.NotEqual(previous, order);
            previous = order;
        }
    }
}
