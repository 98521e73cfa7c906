using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using static TorchSharp.torch;

namespace CbpGpu.Bench;

/// <summary>
/// One acting step (docs/ppo.md#acting-forward) of the paper's networks (111 -> 256 -> 256 -> 8 policy and -> 1 value)
/// for the rollout's rows: the fused CPU loops against the TorchSharp path the rollout used before issue 26 (policy
/// forward, randn sample, log-probability, value, copies into the rollout), and against a memory-speed floor: one read
/// of every parameter the forward multiplies (765 KB), which every row needs once.
/// </summary>
[Config(typeof(BenchConfig))]
public class ActingBenchmarks
{
    private ActorCritic? _nets;
    private Generator? _generator;
    private ActingForward? _acting;
    private float[] _parameters = [], _observations = [], _noise = [], _actions = [], _logProbs = [], _h1 = [], _h2 = [], _values = [];
    private Tensor? _obs, _actionsOut, _logProbsOut, _h1Out, _h2Out, _valuesOut;

    [Params(1, 16)]
    public int Envs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _nets = new ActorCritic(BenchNetwork.Observation, 256, BenchNetwork.Actions, CPU);
        using (var init = new Generator(1)) _nets.Parameters.Initialize(init);
        _generator = new Generator(2);
        _acting = new ActingForward(_nets.Layout, _nets.Activation, Envs);
        _parameters = _nets.Parameters.ToArray();
        var random = new Random(3);
        _observations = [.. Enumerable.Range(0, Envs * BenchNetwork.Observation).Select(_ => (float)random.NextDouble())];
        _noise = [.. Enumerable.Range(0, Envs * BenchNetwork.Actions).Select(_ => (float)random.NextDouble())];
        _actions = new float[Envs * BenchNetwork.Actions];
        _logProbs = new float[Envs];
        _h1 = new float[Envs * 256];
        _h2 = new float[Envs * 256];
        _values = new float[Envs];
        _obs = tensor(_observations, [Envs, BenchNetwork.Observation]);
        _actionsOut = zeros(Envs, BenchNetwork.Actions);
        _logProbsOut = zeros(Envs);
        _h1Out = zeros(Envs, 256);
        _h2Out = zeros(Envs, 256);
        _valuesOut = zeros(Envs);
    }

    [Benchmark(Baseline = true)]
    public void TorchSharp()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var policy = _nets!.Policy(_obs!);
        var noise = randn(policy.Mean.shape, policy.Mean.dtype, policy.Mean.device, generator: _generator);
        var action = policy.Mean + policy.LogStd.exp() * noise;
        _actionsOut!.copy_(action);
        _logProbsOut!.copy_(GaussianPolicy.LogProb(action, policy.Mean, policy.LogStd));
        _h1Out!.copy_(policy.H1);
        _h2Out!.copy_(policy.H2);
        _valuesOut!.copy_(_nets.Value(_obs!).Value);
    }

    [Benchmark]
    public void Fused()
    {
        _acting!.Policy(_parameters, _observations, Envs, _noise, _actions, _logProbs, _h1, _h2);
        _acting.Value(_parameters, _observations, Envs, _values);
    }

    /// <summary>Every parameter read once (summed in 4 x 8 lanes): what one row's forward cannot go below.</summary>
    [Benchmark]
    public float ReadParametersOnce()
    {
        var p = _parameters.AsSpan();
        Vector256<float> a = default, b = default, c = default, d = default;
        int i = 0;
        for (; i + 32 <= p.Length; i += 32)
        {
            a += Vector256.Create<float>(p.Slice(i, 8));
            b += Vector256.Create<float>(p.Slice(i + 8, 8));
            c += Vector256.Create<float>(p.Slice(i + 16, 8));
            d += Vector256.Create<float>(p.Slice(i + 24, 8));
        }
        return Vector256.Sum(a + b + c + d);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _obs, _actionsOut, _logProbsOut, _h1Out, _h2Out, _valuesOut }) t?.Dispose();
        _generator?.Dispose();
        _nets?.Dispose();
    }
}
