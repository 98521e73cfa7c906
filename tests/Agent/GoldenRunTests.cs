using CbpGpu.Agent;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using CbpGpu.Tests.Runner;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// The trainer computes exactly what the golden files in Data/Agent/golden say (see the README there), on any x86-64-v3
/// CPU: each run is a `Runner train --cpu-kernels portable` process (libtorch reads its kernel choice once per process,
/// and this test process runs the native kernels the other tests use), whose episodes.csv and updates.csv (every column
/// the golden file has, by name, as written; columns added since and the timings aside) must equal the golden bytes.
/// The same runs under a simulated CPU without AVX-512 (every layer told so: MKL, .NET, glibc's libm, oneDNN) must give
/// the same bytes: that is what portable promises across machines (docs/formats.md#reproducibility). Native kernels
/// promise files only on the machine that wrote them; their CPU-independent property, the same seed twice giving
/// identical files and a resume continuing exactly, is TrainerTests.SameSeedGivesIdenticalFilesAndResumeContinuesExactly
/// (in this process, native) and TrainProcessTests (Runner processes, native).
/// </summary>
public sealed class GoldenRunTests : IDisposable
{
    /// <summary>
    /// A machine like this one without AVX-512 (x86-64-v3: AVX2 and FMA, e.g. AMD Zen 2/3 or Intel client CPUs): MKL
    /// limited to AVX2, .NET's JIT without AVX-512, glibc choosing its libraries and libm variants as without AVX-512,
    /// oneDNN limited to AVX2. glibc 2.36's tunable names are the plain ones (AVX512F, not AVX512F_Usable, which it ignores).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> WithoutAvx512 = new Dictionary<string, string>
    {
        ["MKL_ENABLE_INSTRUCTIONS"] = "AVX2",
        ["DOTNET_EnableAVX512F"] = "0",
        ["GLIBC_TUNABLES"] = "glibc.cpu.hwcaps=-AVX512F,-AVX512CD,-AVX512VL,-AVX512BW,-AVX512DQ",
        ["ONEDNN_MAX_CPU_ISA"] = "AVX2",
    };

    private readonly string _root = TrainRuns.NewRoot("golden");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    public static TheoryData<string> Runs => ["std", "cbp", "cbp-adaptable-reset"];

    private static TrainConfig Config(string name)
    {
        var fast = new Func<CbpSettings, CbpSettings>(c => c with { MaturityThreshold = 50, ReplacementRate = 0.01 });
        var method = name == "std" ? PpoMethod.Standard : PpoMethod.Cbp;
        CbpSettings? cbp = name switch
        {
            "cbp" => fast(CbpSettings.Nature2024),
            // The seed2023 CBP preset before issue 11 (see the README there): published rule, adaptable utility, full reset.
            "cbp-adaptable-reset" => fast(CbpSettings.Nature2024 with
            {
                Utility = UtilityKind.AdaptableContribution, AdamReset = AdamStateReset.MomentsAndStepCounters,
            }),
            _ => null,
        };
        var run = new RunSettings(3, 8192, "cpu", 1, 2, 100, CpuKernels: CpuKernels.Portable);
        return new TrainConfig(EnvSettings.Nature2024(16), PpoSettings.For(method), run, cbp);
    }

    /// <summary>`Runner train --config` with the run's config.json (portable kernels) in a process of its own; returns the run directory.</summary>
    private string TrainInProcessOfItsOwn(string name, IReadOnlyDictionary<string, string>? environment = null)
    {
        Directory.CreateDirectory(_root);
        string config = Path.Combine(_root, name + ".json");
        File.WriteAllText(config, Config(name).ToJson());
        string dir = Path.Combine(_root, name);
        var (code, stdout, stderr) = RunnerProcess.Run(["train", "--config", config, "--out", dir], environment);
        Assert.True(code == 0, stderr);
        Assert.Contains("\"CpuKernels\": \"Portable\"", stdout);
        return dir;
    }

    private static void AssertGolden(string name, string dir)
    {
        string golden = Path.Combine(AppContext.BaseDirectory, "Data", "Agent", "golden", name);
        Assert.Equal(File.ReadAllBytes(Path.Combine(golden, "episodes.csv")), TrainRuns.Episodes(dir));
        string[] expected = File.ReadAllLines(Path.Combine(golden, "updates-without-timings.csv"));
        Assert.Equal(expected, TrainRuns.UpdateColumns(dir, expected[0].Split(',')));
    }

    /// <summary>libtorch reads its kernel choice once per process: asking this (native) process for portable kernels is refused, not ignored.</summary>
    [SkippableFact]
    public void PortableKernelsInAProcessThatRunsNativeOnesAreRefusedBeforeAnyFile()
    {
        TorchRuntime.EnsureLoaded();
        Skip.If(TorchRuntime.CurrentCpuKernels == CpuKernels.Portable,
            $"this test process was started with {string.Join(", ", TorchRuntime.PortableKernelVariables.Select(v => $"{v.Name}={v.Value}"))}, so it runs portable kernels");
        string dir = Path.Combine(_root, "refused");
        var e = Assert.Throws<TrainingException>(() => TrainRuns.Train(dir, Config("std")));
        Assert.StartsWith("--cpu-kernels portable: this process already runs libtorch with native CPU kernels", e.Message);
        Assert.False(Directory.Exists(dir));
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void TrainingReproducesTheGoldenFilesByteForByte(string name) => AssertGolden(name, TrainInProcessOfItsOwn(name));

    [Theory]
    [MemberData(nameof(Runs))]
    public void ACpuWithoutAvx512ReproducesTheSameGoldenFiles(string name) => AssertGolden(name, TrainInProcessOfItsOwn(name, WithoutAvx512));
}
