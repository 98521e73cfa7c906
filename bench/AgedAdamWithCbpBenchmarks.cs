using BenchmarkDotNet.Attributes;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Bench;

/// <summary>
/// One aged-Adam step plus Continual Backprop on a 128-row minibatch (statistics of all four
/// hidden layers, choice, and the occasional replacement) with the reproduction's settings
/// (adaptable-contribution utility, optimizer state reset), naive vs fused.
/// </summary>
[Config(typeof(BenchConfig))]
public class AgedAdamWithCbpBenchmarks
{
    private FlatParameters? _naiveParameters, _fusedParameters;
    private Tensor[]? _activations;
    private OptimizerPair? _naive, _fused;
    private KernelEngine? _cuda;

    [Params(1, 10)]
    public int Width { get; set; }

    private static AdamSettings Adam => PpoSettings.For(PpoMethod.Cbp).Adam;

    private static CbpSettings Settings => CbpSettings.Seed2023;

    [GlobalSetup(Targets = [nameof(Naive), nameof(FusedCpu)])]
    public void SetupTorch()
    {
        _naiveParameters = BenchNetwork.Agent(Width, seed: 1);
        _fusedParameters = BenchNetwork.Agent(Width, seed: 1);
        var layers = _fusedParameters.Layout.HiddenLayers.ToArray();
        _activations = BenchNetwork.Activations(layers, seed: 2)
            .Select((h, l) => tensor(h).view(BenchNetwork.Batch, layers[l].Units)).ToArray();
        _naive = OptimizerPair.Create(_naiveParameters, Adam, Settings, OptimizerImpl.Naive, 3);
        _fused = OptimizerPair.Create(_fusedParameters, Adam, Settings, OptimizerImpl.Fused, 3);
    }

    [GlobalSetup(Target = nameof(FusedCuda))]
    public void SetupCuda() => _cuda = new KernelEngine(KernelEngine.Target.Cuda, Width, Settings, Adam, seed: 1);

    [Benchmark(Baseline = true)]
    public void Naive()
    {
        _naive!.Optimizer.Step();
        _naive.Cbp!.AfterStep(_activations!);
    }

    [Benchmark]
    public void FusedCpu()
    {
        _fused!.Optimizer.Step();
        _fused.Cbp!.AfterStep(_activations!);
    }

    [Benchmark, BenchmarkCategory(BenchConfig.Cuda)]
    public int FusedCuda() => _cuda!.StepWithCbp();

    [GlobalCleanup]
    public void Cleanup()
    {
        _naive?.Dispose();
        _fused?.Dispose();
        _naiveParameters?.Dispose();
        _fusedParameters?.Dispose();
        if (_activations is not null) foreach (var a in _activations) a.Dispose();
        _cuda?.Dispose();
        (_naive, _fused, _naiveParameters, _fusedParameters, _activations, _cuda) = (null, null, null, null, null, null);
    }
}
