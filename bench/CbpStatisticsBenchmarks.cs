using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using CbpGpu.Kernels;

namespace CbpGpu.Bench;

/// <summary>
/// Continual Backprop's statistics of one optimizer step (all four hidden layers, a 128-row minibatch) on the CPU
/// (<see cref="CpuCbpKernels.UpdateStatistics"/>), against a memory-speed floor: one read of the bytes they must read
/// (each layer's activations and W_out, 1.0 MB at width 1; the adaptable contribution also W_in, 1.8 MB in all).
/// </summary>
[Config(typeof(BenchConfig))]
public class CbpStatisticsBenchmarks
{
    private NativeBuffer<float>? _parameters;
    private CpuCbpKernels? _kernels;
    private HiddenLayerLayout[] _layers = [];
    private float[][] _activations = [];

    [Params(1)]
    public int Width { get; set; }

    /// <summary>nature2024's contribution utility, and the adaptable one (the report's), which also reads W_in.</summary>
    [Params(UtilityKind.Contribution, UtilityKind.AdaptableContribution)]
    public UtilityKind Utility { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (layers, length, _) = BenchNetwork.Layout(Width);
        _layers = layers;
        _parameters = new NativeBuffer<float>(length);
        var gradients = new float[length];
        BenchNetwork.Fill(_parameters.Span, gradients, layers, seed: 1);
        _activations = BenchNetwork.Activations(layers, seed: 2);
        _kernels = new CpuCbpKernels(_parameters.View, layers, CbpSettings.Nature2024 with { Utility = Utility });
    }

    [Benchmark(Baseline = true)]
    public void Statistics()
    {
        for (int l = 0; l < _layers.Length; l++) _kernels!.UpdateStatistics(l, NativeView<float>.OfFixed(_activations[l]), BenchNetwork.Batch);
    }

    /// <summary>The same bytes read once, summed in 4 x 8 lanes.</summary>
    [Benchmark]
    public float ReadTheSameBytesOnce()
    {
        var p = _parameters!.Span;
        float total = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            var L = _layers[l];
            total += Sum(_activations[l]);
            if (Utility != UtilityKind.Contribution) total += Sum(p.Slice(L.WeightInOffset, L.Units * L.FanIn));
            total += Sum(p.Slice(L.WeightOutOffset, L.NextOut * L.Units));
        }
        return total;
    }

    private static float Sum(ReadOnlySpan<float> x)
    {
        Vector256<float> a = default, b = default, c = default, d = default;
        int i = 0;
        for (; i + 32 <= x.Length; i += 32)
        {
            a += Vector256.Create(x.Slice(i, 8));
            b += Vector256.Create(x.Slice(i + 8, 8));
            c += Vector256.Create(x.Slice(i + 16, 8));
            d += Vector256.Create(x.Slice(i + 24, 8));
        }
        return Vector256.Sum(a + b + c + d);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _kernels?.Dispose();
        _parameters?.Dispose();
    }
}
