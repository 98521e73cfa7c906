using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using CbpGpu.Agent;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Bench;

/// <summary>
/// One PPO update of the paper's learner (docs/ppo.md#one-update: 2,048 transitions, 10 epochs x 16 minibatches of
/// 128 rows, the 111 -> 256 -> 256 -> 8 policy and -> 1 value networks, fused aged Adam) against its floor on this CPU:
/// the matrix products a forward and backward pass cannot avoid (per Linear: the forward product, the weight gradient
/// and, past the first layer, the input gradient), timed with libtorch's own matmul on tensors of the same shapes.
/// The update's time over the floor's says how much of the update is framework and elementwise work that a faster
/// update could still remove (docs/ppo.md#update-floor). With <see cref="Method"/> cbp the update runs the published
/// CBP's Adam and generate-and-test after every optimizer step, as `train --method cbp` does: what CBP adds to an update.
/// </summary>
[Config(typeof(BenchConfig))]
public class UpdateBenchmarks
{
    private const int Steps = 2048;
    private ActorCritic? _nets;
    private OptimizerPair? _optimizer;
    private PpoUpdate? _update;
    private Rollout? _rollout;
    private Generator? _generator;
    private readonly List<(Tensor Input, Tensor Weight, Tensor OutGrad, bool InputGrad)> _products = [];
    private PpoSettings _settings = PpoSettings.For(PpoMethod.Standard);

    /// <summary>std: plain PPO; cbp: the published CBP (its Adam, generate-and-test on all four hidden layers).</summary>
    [Params("std", "cbp")]
    public string Method { get; set; } = "std";

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.SetThreads(1);   // as train runs torch (--torch-threads 1)
        bool cbp = Method == "cbp";
        _settings = PpoSettings.For(cbp ? PpoMethod.Cbp : PpoMethod.Standard);
        _nets = new ActorCritic(BenchNetwork.Observation, 256, BenchNetwork.Actions, CPU);
        using (var init = new Generator(1)) _nets.Parameters.Initialize(init);
        _optimizer = OptimizerPair.Create(_nets.Parameters, _settings.Adam, cbp ? CbpSettings.Nature2024 : null, OptimizerImpl.Fused, 1);
        _generator = new Generator(2);
        _update = new PpoUpdate(_nets, _optimizer.Optimizer, _optimizer.Hook, _settings, _generator, CPU);
        _rollout = new Rollout(Steps, 1, BenchNetwork.Observation, BenchNetwork.Actions, 256);
        var random = new Random(3);
        foreach (var t in new[] { _rollout.Observations, _rollout.Actions })
        {
            var span = MemoryMarshal.Cast<byte, float>(t.bytes);
            for (int i = 0; i < span.Length; i++) span[i] = (float)(random.NextDouble() * 2 - 1);
        }
        for (int i = 0; i < _rollout.Size; i++)
        {
            _rollout.RewardSpan[i] = (float)random.NextDouble();
            _rollout.TerminatedSpan[i] = random.Next(1000) == 0;
        }

        int rows = _settings.BatchSize / _settings.Minibatches;
        foreach (int outputs in new[] { BenchNetwork.Actions, 1 })
        {
            int[] widths = [BenchNetwork.Observation, 256, 256, outputs];
            for (int l = 0; l + 1 < widths.Length; l++)
                _products.Add((randn(rows, widths[l]), randn(widths[l + 1], widths[l]), randn(rows, widths[l + 1]), l > 0));
        }
    }

    [Benchmark(Baseline = true)]
    public UpdateStats Update() => _update!.Run(_rollout!);

    /// <summary>
    /// The floor: for each of the update's 160 minibatches, every Linear's forward product x W^T, weight gradient
    /// dY^T x and input gradient dY W (not for the first layer: nothing needs the observations' gradient).
    /// </summary>
    [Benchmark]
    public void MatrixProducts()
    {
        for (int k = 0; k < _settings.Epochs * _settings.Minibatches; k++)
        {
            using var scope = NewDisposeScope();
            foreach (var (x, w, dy, inputGrad) in _products)
            {
                _ = x.mm(w.t());
                _ = dy.t().mm(x);
                if (inputGrad) _ = dy.mm(w);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _update?.Dispose();
        _optimizer?.Dispose();
        _rollout?.Dispose();
        _generator?.Dispose();
        _nets?.Dispose();
        foreach (var (x, w, dy, _) in _products)
        {
            x.Dispose();
            w.Dispose();
            dy.Dispose();
        }
    }
}
