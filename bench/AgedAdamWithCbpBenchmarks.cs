using BenchmarkDotNet.Attributes;
using CbpGpu.Agent.Optimization;
using CbpGpu.Kernels;
using TorchSharp.Modules;
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
    private Tensor? _data, _grad;
    private List<Parameter>? _views;
    private Tensor[]? _activations;
    private NaiveAgedAdam? _naiveAdam;
    private NaiveCbp? _naiveCbp;
    private FusedAgedAdam? _fusedAdam;
    private FusedCbp? _fusedCbp;
    private KernelEngine? _cuda;

    [Params(1, 10)]
    public int Width { get; set; }

    private static AdamHyperparameters Hyperparameters => AdamHyperparameters.Cbp();

    private static CbpSettings Settings => CbpSettings.Seed2023;

    [GlobalSetup(Targets = [nameof(Naive), nameof(FusedCpu)])]
    public void SetupTorch()
    {
        var (layers, length, policyLength) = BenchNetwork.Layout(Width);
        _data = zeros(length);
        _grad = zeros(length);
        BenchNetwork.Fill(BenchSpan.Of(_data), BenchSpan.Of(_grad), layers, seed: 1);
        (_views, var hidden) = BenchNetwork.Views(_data, _grad, layers, policyLength);
        _activations = BenchNetwork.Activations(layers, seed: 2)
            .Select((h, l) => tensor(h).view(BenchNetwork.Batch, layers[l].Units)).ToArray();
        _naiveAdam = new NaiveAgedAdam(_views.ToArray(), Hyperparameters);
        _naiveCbp = new NaiveCbp(hidden, Settings, _naiveAdam, seed: 3);
        _fusedAdam = new FusedAgedAdam(_data, _grad, Hyperparameters);
        _fusedCbp = new FusedCbp(_fusedAdam, layers, Settings, seed: 3);
    }

    [GlobalSetup(Target = nameof(FusedCuda))]
    public void SetupCuda() => _cuda = new KernelEngine(KernelEngine.Target.Cuda, Width, Settings, Hyperparameters, seed: 1);

    [Benchmark(Baseline = true)]
    public int Naive()
    {
        _naiveAdam!.Step();
        return _naiveCbp!.AfterStep(_activations!);
    }

    [Benchmark]
    public int FusedCpu()
    {
        _fusedAdam!.Step();
        return _fusedCbp!.AfterStep(_activations!);
    }

    [Benchmark, BenchmarkCategory(BenchConfig.Cuda)]
    public int FusedCuda() => _cuda!.StepWithCbp();

    [GlobalCleanup]
    public void Cleanup()
    {
        _naiveCbp?.Dispose();
        _naiveAdam?.Dispose();
        _fusedCbp?.Dispose();
        _fusedAdam?.Dispose();
        _views?.ForEach(p => p.Dispose());
        if (_activations is not null) foreach (var a in _activations) a.Dispose();
        _data?.Dispose();
        _grad?.Dispose();
        _cuda?.Dispose();
        (_naiveCbp, _naiveAdam, _fusedCbp, _fusedAdam, _views, _activations, _data, _grad, _cuda) =
            (null, null, null, null, null, null, null, null, null);
    }
}
