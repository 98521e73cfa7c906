using BenchmarkDotNet.Attributes;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Bench;

/// <summary>
/// The fused CPU aged-Adam step (NS-Adam, beta1 = beta2 = 0.99, as ns, l2 and cbp run it; one thread) over 191,280
/// parameters, with a share of them in the state a long cbp run leaves some weights in: a gradient of 1e-20, so g^2 and
/// the second moment v are subnormal floats (docs/speed.md#in-training-64-envs). The rest have ordinary gradients and
/// moments. No L2 here, so that the tiny gradients stay what they are from step to step.
/// What it shows: what subnormal arithmetic costs this CPU in the optimizer step, against the same step without it.
/// </summary>
[Config(typeof(BenchConfig))]
public class SubnormalAdamBenchmarks
{
    private const int Length = 191_280;
    private NativeBuffer<float>? _parameters, _gradients;
    private CpuAgedAdam? _adam;

    /// <summary>Percent of the parameters whose v is subnormal (the probe counted about 20% in a 150k-step cbp run).</summary>
    [Params(0, 20)]
    public int SubnormalPercent { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _parameters = new NativeBuffer<float>(Length);
        _gradients = new NativeBuffer<float>(Length);
        var random = new Random(1);
        var p = _parameters.Span;
        var g = _gradients.Span;
        for (int i = 0; i < Length; i++)
        {
            bool quiet = random.Next(100) < SubnormalPercent;
            p[i] = (float)(random.NextDouble() - 0.5) * 0.1f;
            g[i] = quiet ? 1e-20f : (float)(random.NextDouble() - 0.5) * 2e-3f;
        }
        _adam = new CpuAgedAdam(_parameters.View, _gradients.View, PpoSettings.For(PpoMethod.NsAdam).Adam, maxDegreeOfParallelism: 1);
        // Into the steady state: v of the quiet parameters converges to 1e-40 (subnormal), the others' to ~1e-7.
        for (int k = 0; k < 2000; k++) _adam.Step();
    }

    [Benchmark]
    public void FusedStep() => _adam!.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        _adam?.Dispose();
        _parameters?.Dispose();
        _gradients?.Dispose();
    }
}
