using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// The restructured trainer computes exactly what the trainer before it did: the files in Data/Agent/golden were
/// written by commit 7cb064d (see the README there), and the same seed and settings must reproduce them byte for byte
/// (updates.csv: every column the golden file has, by name, as written; columns added since, like the
/// representation diagnostics, and the timings are not part of the comparison).
/// </summary>
public sealed class GoldenRunTests : IDisposable
{
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
        return new TrainConfig(EnvSettings.Nature2024(16), PpoSettings.For(method), new RunSettings(3, 8192, "cpu", 1, 2, 100), cbp);
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void TrainingReproducesTheGoldenFilesByteForByte(string name)
    {
        string dir = Path.Combine(_root, name);
        TrainRuns.Train(dir, Config(name));
        string golden = Path.Combine(AppContext.BaseDirectory, "Data", "Agent", "golden", name);
        Assert.Equal(File.ReadAllBytes(Path.Combine(golden, "episodes.csv")), TrainRuns.Episodes(dir));
        string[] expected = File.ReadAllLines(Path.Combine(golden, "updates-without-timings.csv"));
        Assert.Equal(expected, TrainRuns.UpdateColumns(dir, expected[0].Split(',')));
    }
}
