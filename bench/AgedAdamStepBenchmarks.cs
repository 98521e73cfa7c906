using BenchmarkDotNet.Attributes;
using CbpGpu.Agent.Optimization;
using CbpGpu.Kernels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CbpGpu.Bench;

/// <summary>
/// One aged-Adam step over both networks: the naive TorchSharp reference (about twenty ops per
/// parameter tensor), the fused CPU loop over the flat tensors, and the fused kernel on CUDA.
/// </summary>
[Config(typeof(BenchConfig))]
public class AgedAdamStepBenchmarks
{
    private Tensor? _data, _grad;
    private List<Parameter>? _views;
    private NaiveAgedAdam? _naive;
    private FusedAgedAdam? _fused;
    private KernelEngine? _cuda;

    /// <summary>Hidden width in units of 256: 1 is the real size (~191k parameters), 10 is ten times wider (~13.7M).</summary>
    [Params(1, 10)]
    public int Width { get; set; }

    private static AdamHyperparameters Hyperparameters => AdamHyperparameters.Cbp();

    [GlobalSetup(Targets = [nameof(Naive), nameof(FusedCpu)])]
    public void SetupTorch()
    {
        var (layers, length, policyLength) = BenchNetwork.Layout(Width);
        _data = zeros(length);
        _grad = zeros(length);
        BenchNetwork.Fill(BenchSpan.Of(_data), BenchSpan.Of(_grad), layers, seed: 1);
        (_views, _) = BenchNetwork.Views(_data, _grad, layers, policyLength);
        _naive = new NaiveAgedAdam(_views.ToArray(), Hyperparameters);
        _fused = new FusedAgedAdam(_data, _grad, Hyperparameters);
    }

    [GlobalSetup(Target = nameof(FusedCuda))]
    public void SetupCuda() => _cuda = new KernelEngine(KernelEngine.Target.Cuda, Width, CbpSettings.Seed2023, Hyperparameters, seed: 1);

    [Benchmark(Baseline = true)]
    public void Naive() => _naive!.Step();

    [Benchmark]
    public void FusedCpu() => _fused!.Step();

    [Benchmark, BenchmarkCategory(BenchConfig.Cuda)]
    public void FusedCuda() => _cuda!.Adam.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        _naive?.Dispose();
        _fused?.Dispose();
        _views?.ForEach(p => p.Dispose());
        _data?.Dispose();
        _grad?.Dispose();
        _cuda?.Dispose();
        (_naive, _fused, _views, _data, _grad, _cuda) = (null, null, null, null, null, null);
    }
}
