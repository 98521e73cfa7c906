using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace CbpGpu.Bench;

/// <summary>
/// A short job (1 launch, 3 warm-up and 9 measured iterations of ~250 ms) run in-process: the
/// whole suite finishes in a few minutes on 2 cores and needs no SDK (so it also runs from a
/// self-contained publish on a GPU machine); BenchmarkDotNet's generated out-of-process project
/// would also miss the build's GLIBCXX-patched libLibTorchSharp.so. Benchmarks in category "cuda"
/// are dropped when no CUDA device is present.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public const string Cuda = "cuda";

    public BenchConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(9)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("Short"));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        bool cuda = CudaProbe.Available;
        AddFilter(new SimpleFilter(b => cuda || !b.Descriptor.Categories.Contains(Cuda)));
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
