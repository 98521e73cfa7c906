using BenchmarkDotNet.Attributes;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Bench;

/// <summary>
/// One aged-Adam step over both networks: the naive TorchSharp reference (about twenty ops per
/// parameter tensor), the fused CPU loop over the flat tensors, and the fused kernel on CUDA.
/// </summary>
[Config(typeof(BenchConfig))]
public class AgedAdamStepBenchmarks
{
    private FlatParameters? _naiveParameters, _fusedParameters;
    private OptimizerPair? _naive, _fused;
    private KernelEngine? _cuda;

    /// <summary>Hidden width in units of 256: 1 is the real size (~191k parameters), 10 is ten times wider (~13.7M).</summary>
    [Params(1, 10)]
    public int Width { get; set; }

    private static AdamSettings Adam => PpoSettings.For(PpoMethod.Cbp).Adam;

    [GlobalSetup(Targets = [nameof(Naive), nameof(FusedCpu)])]
    public void SetupTorch()
    {
        _naiveParameters = BenchNetwork.Agent(Width, seed: 1);
        _fusedParameters = BenchNetwork.Agent(Width, seed: 1);
        _naive = OptimizerPair.Create(_naiveParameters, Adam, null, OptimizerImpl.Naive, 0);
        _fused = OptimizerPair.Create(_fusedParameters, Adam, null, OptimizerImpl.Fused, 0);
    }

    [GlobalSetup(Target = nameof(FusedCuda))]
    public void SetupCuda() => _cuda = new KernelEngine(KernelEngine.Target.Cuda, Width, CbpSettings.Seed2023, Adam, seed: 1);

    [Benchmark(Baseline = true)]
    public void Naive() => _naive!.Optimizer.Step();

    [Benchmark]
    public void FusedCpu() => _fused!.Optimizer.Step();

    [Benchmark, BenchmarkCategory(BenchConfig.Cuda)]
    public void FusedCuda() => _cuda!.Adam.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        _naive?.Dispose();
        _fused?.Dispose();
        _naiveParameters?.Dispose();
        _fusedParameters?.Dispose();
        _cuda?.Dispose();
        (_naive, _fused, _naiveParameters, _fusedParameters, _cuda) = (null, null, null, null, null);
    }
}
