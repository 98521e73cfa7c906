using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// What one PPO update did: means over its minibatches, where it first went non-finite (if it did), and, per hidden
/// layer in <see cref="Networks.ParameterLayout.HiddenLayers"/> order, the dormant fraction and effective rank of its
/// representation of the update's batch after the update (<see cref="HiddenRepresentation"/>).
/// </summary>
public sealed record UpdateStats(
    double PolicyLoss, double ValueLoss, double ApproxKl, double ClipFraction, double PolicyStd,
    string? NonFinite, double[] DormantFraction, double[] EffectiveRank);

/// <summary>
/// PPO (docs/ppo.md#one-update) in the order it runs: generalised advantage estimation over the rollout, then
/// <see cref="PpoSettings.Epochs"/> passes of shuffled minibatches with the clipped surrogate objective plus the
/// value regression, one optimizer over both networks, and before and after every optimizer step the hooks where a
/// plasticity method (Continual Backprop, ...) plugs in (docs/extending.md#hooks).
/// </summary>
public sealed class PpoUpdate : IDisposable
{
    private readonly ActorCritic _nets;
    private readonly IParameterOptimizer _optimizer;
    private readonly IPlasticityHook? _hook;
    private readonly PpoSettings _s;
    private readonly Generator _generator;
    private readonly Device _device;
    private static readonly Scalar Two = 2;   // square() would make a Scalar 2 of its own (docs/ppo.md#scalars)
    private readonly Tensor _stats;   // [epochs * minibatches, 4]: policy loss, value loss, approx KL, clip fraction

    public PpoUpdate(ActorCritic nets, IParameterOptimizer optimizer, IPlasticityHook? hook, PpoSettings settings, Generator generator, Device device)
    {
        _nets = nets;
        _optimizer = optimizer;
        _hook = hook;
        _s = settings;
        _generator = generator;
        _device = device;
        _stats = zeros([settings.Epochs * settings.Minibatches, 4], ScalarType.Float32, device);
    }

    /// <summary>
    /// Generalised advantage estimation, per env, backwards in time (index t * envs + i).
    /// delta_t = r_t + gamma * V(s_{t+1}) * (bootstrap) - V(s_t);  A_t = delta_t + gamma * lambda * (episode goes on) * A_{t+1}.
    /// An episode that ended at t cuts the trace. What follows a truncation: in the paper presets nothing (treated
    /// like termination, V = 0); with <paramref name="bootstrapTruncation"/> the value of the episode's last
    /// observation (<paramref name="truncatedValues"/>). Returns = advantages + values (the value targets).
    /// </summary>
    public static void Gae(
        int steps, int envs,
        ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> lastValues,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated, ReadOnlySpan<float> truncatedValues,
        double gamma, double lambda, bool bootstrapTruncation,
        Span<float> advantages, Span<float> returns)
    {
        for (int i = 0; i < envs; i++)
        {
            double lastGaeLam = 0;
            for (int t = steps - 1; t >= 0; t--)
            {
                int k = t * envs + i;
                bool ended = terminated[k] || truncated[k];
                double nextValue = t == steps - 1 ? lastValues[i] : values[k + envs];
                if (ended) nextValue = bootstrapTruncation && !terminated[k] ? truncatedValues[k] : 0.0;
                double delta = rewards[k] + gamma * nextValue - values[k];
                lastGaeLam = delta + gamma * lambda * (ended ? 0.0 : 1.0) * lastGaeLam;
                advantages[k] = (float)lastGaeLam;
                returns[k] = (float)(lastGaeLam + values[k]);
            }
        }
    }

    /// <summary>The clipped surrogate loss -E[min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)].</summary>
    public static Tensor ClippedSurrogateLoss(Tensor ratio, Tensor advantages, double clip)
    {
        // Numbers passed to TorchSharp ops become Scalars that the GC may free while libtorch still reads them;
        // `using` keeps these alive until the ops are done (the same for every number this class passes).
        using Scalar low = 1 - clip, high = 1 + clip;
        return -min(ratio * advantages, ratio.clamp(low, high) * advantages).mean();
    }

    /// <summary>
    /// Advantages scaled to mean 0 and (unbiased) std 1 (+ 1e-8 where the published code skips an all-zero std). Applied
    /// to the whole batch once per update, as the published code does, so every minibatch sees the same scale; or, as
    /// Stable-Baselines3 does, to each minibatch on its own (<see cref="AdvantageNormalization"/>).
    /// </summary>
    public static Tensor NormalizeAdvantages(Tensor advantages)
    {
        using Scalar epsilon = 1e-8, one = 1;
        return (advantages - advantages.mean()) / advantages.std().add(epsilon, one);
    }

    /// <summary>
    /// torch.nn.utils.clip_grad_norm_ over the flat gradient (docs/ppo.md#gradient-clipping): with the global L2 norm
    /// ||g|| of every parameter's gradient, g *= min(1, maxNorm / (||g|| + 1e-6)). Returns ||g|| before clipping.
    /// </summary>
    public static Tensor ClipGradientNorm(Tensor gradient, double maxNorm)
    {
        using Scalar epsilon = 1e-6, limit = maxNorm, one = 1.0;
        var norm = gradient.norm();
        gradient.mul_(norm.add(epsilon, one).reciprocal_().mul_(limit).clamp_max_(one));
        return norm;
    }

    /// <summary>
    /// The sample indices of one epoch's minibatches: a fresh permutation of 0..batch-1 (one draw from
    /// <paramref name="generator"/>, a CPU one, on the CPU) cut into <paramref name="count"/> consecutive slices on
    /// <paramref name="device"/>, so every sample is used exactly once.
    /// </summary>
    public static Tensor[] ShuffledMinibatches(int batch, int count, Generator generator, Device device)
    {
        var order = randperm(batch, generator: generator, device: CPU);
        return (device.type == DeviceType.CPU ? order : order.to(device)).split(batch / count);
    }

    /// <summary>Runs GAE on the rollout, then the epochs of minibatch updates.</summary>
    public UpdateStats Run(Rollout rollout)
    {
        Gae(rollout.Steps, rollout.Envs, rollout.RewardSpan, rollout.ValueSpan, rollout.LastValueSpan,
            rollout.TerminatedSpan, rollout.TruncatedSpan, rollout.TruncatedValueSpan,
            _s.Gamma, _s.GaeLambda, _s.BootstrapTruncation, rollout.AdvantageSpan, rollout.ReturnSpan);

        using var updateScope = NewDisposeScope();
        using Scalar one = 1, clip = _s.Clip, valueCoefficient = _s.ValueCoefficient;
        int batch = rollout.Size;
        var obs = rollout.Observations.view(batch, rollout.ObservationSize).to(_device);
        var actions = rollout.Actions.view(batch, rollout.ActionSize).to(_device);
        var oldLogProbs = rollout.LogProbs.view(batch).to(_device);
        var advantages = rollout.Advantages.view(batch).to(_device);
        var returns = rollout.Returns.view(batch).to(_device);
        if (_s.Advantages == AdvantageNormalization.Batch) advantages = NormalizeAdvantages(advantages);

        for (int epoch = 0; epoch < _s.Epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var minibatches = ShuffledMinibatches(batch, _s.Minibatches, _generator, _device);
            for (int m = 0; m < _s.Minibatches; m++)
            {
                using var minibatchScope = NewDisposeScope();
                var idx = minibatches[m];
                var mbObs = obs.index_select(0, idx);
                var mbAdvantages = advantages.index_select(0, idx);
                if (_s.Advantages == AdvantageNormalization.Minibatch) mbAdvantages = NormalizeAdvantages(mbAdvantages);

                var policy = _nets.Policy(mbObs);
                var newLogProbs = GaussianPolicy.LogProb(actions.index_select(0, idx), policy.Mean, policy.LogStd);
                var logRatio = newLogProbs - oldLogProbs.index_select(0, idx);
                var ratio = logRatio.exp();
                var policyLoss = ClippedSurrogateLoss(ratio, mbAdvantages, _s.Clip);

                var value = _nets.Value(mbObs);
                var valueLoss = (value.Value - returns.index_select(0, idx)).pow(Two).mean();

                var loss = policyLoss.add(valueLoss.mul(valueCoefficient), one);   // not `+`: it makes a Scalar 1 of its own
                _optimizer.ZeroGrad();
                loss.backward();
                if (_s.MaxGradNorm is double maxNorm)
                    using (no_grad())
                        ClipGradientNorm(_nets.Parameters.Grad, maxNorm);
                var step = _hook is null ? default
                    : new StepView(_nets.Parameters, _optimizer, [policy.H1.detach(), policy.H2.detach(), value.H1.detach(), value.H2.detach()]);
                _hook?.BeforeStep(step);
                _optimizer.Step();
                _hook?.AfterStep(step);

                using (no_grad())
                {
                    var ratioMinusOne = ratio.sub(one);
                    var approxKl = (ratioMinusOne - logRatio).mean();
                    var clipFraction = ratioMinusOne.abs().gt(clip).to(ScalarType.Float32).mean();
                    _stats[epoch * _s.Minibatches + m].copy_(stack([policyLoss.detach(), valueLoss.detach(), approxKl, clipFraction]));
                }
            }
        }
        return Summarize(obs);
    }

    /// <summary>The hidden layers' outputs on the whole batch with the updated weights: what the diagnostics look at.</summary>
    private (double[] Dormant, double[] EffectiveRank) Diagnose(Tensor obs)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var policy = _nets.Policy(obs);
        var value = _nets.Value(obs);
        Tensor[] hidden = [policy.H1, policy.H2, value.H1, value.H2];
        var dormant = new double[hidden.Length];
        var rank = new double[hidden.Length];
        for (int l = 0; l < hidden.Length; l++)
        {
            dormant[l] = HiddenRepresentation.DormantFraction(hidden[l]);
            rank[l] = HiddenRepresentation.EffectiveRank(hidden[l]);
        }
        return (dormant, rank);
    }

    private UpdateStats Summarize(Tensor obs)
    {
        using var scope = NewDisposeScope();
        float[] s = _stats.cpu().data<float>().ToArray();
        string? nonFinite = null;
        string[] names = ["policy loss", "value loss", "approx KL", "clip fraction"];
        for (int r = 0; r < s.Length / 4 && nonFinite is null; r++)
            for (int c = 0; c < 4; c++)
                if (!float.IsFinite(s[r * 4 + c]))
                {
                    nonFinite = $"{names[c]} is {s[r * 4 + c]} in epoch {r / _s.Minibatches + 1}, minibatch {r % _s.Minibatches + 1}";
                    break;
                }
        var mean = new double[4];
        for (int r = 0; r < s.Length / 4; r++)
            for (int c = 0; c < 4; c++) mean[c] += s[r * 4 + c];
        int rows = s.Length / 4;
        double std;
        using (no_grad())
            std = _nets.Parameters[_nets.Layout.LogStd].exp().mean().cpu().item<float>();
        var (dormant, rank) = Diagnose(obs);
        return new UpdateStats(mean[0] / rows, mean[1] / rows, mean[2] / rows, mean[3] / rows, std, nonFinite, dormant, rank);
    }

    public void Dispose() => _stats.Dispose();
}
