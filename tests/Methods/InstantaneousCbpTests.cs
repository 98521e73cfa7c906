using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using CbpGpu.Tests.Agent;
using CbpGpu.Tests.Kernels;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Methods;

/// <summary>cbpi (docs/cbp.md#instantaneous-utility): CBP with decay 0, exact in the fused kernels and the naive reference.</summary>
public sealed class InstantaneousCbpTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("cbpi");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    /// <summary>
    /// Decay 0: after each step f_i = mean_b h_bi and u_i = mean_k |W_out[k,i]| * mean_b |h_bi| of that step alone (the
    /// bias correction 1 - 0^age is 1). Every weight and activation is a multiple of 1/8 or 1/4 and every divisor a power of
    /// two, so each sum and product is exact in float32 in any order: the fused CPU kernels and the naive TorchSharp
    /// reference must give the same bits, and those of the float64 values computed here. Two steps with different
    /// activations: the second step's values owe nothing to the first.
    /// </summary>
    [Fact]
    public void DecayZeroGivesThisStepsUtilityExactlyInTheFusedKernelsAndTheNaiveReference()
    {
        var layout = new ParameterLayout(observationSize: 3, hiddenUnits: 4, actionSize: 2);
        using var fusedNet = new FlatParameters(layout, CPU);
        using var naiveNet = new FlatParameters(layout, CPU);
        foreach (var net in new[] { fusedNet, naiveNet })
        {
            var p = TensorSpan.Of(net.Data);
            foreach (var s in layout.Parameters)
                for (long i = s.Offset; i < s.Offset + s.Length; i++) p[(int)i] = ((i % 7) - 3) / 8f;
        }
        var settings = CbpSettings.Nature2024 with { Decay = 0, ReplacementRate = 0 };
        var adam = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4);
        using var fused = OptimizerPair.Create(fusedNet, adam, settings, OptimizerImpl.Fused, 3);
        using var naive = OptimizerPair.Create(naiveNet, adam, settings, OptimizerImpl.Naive, 3);
        float[] weights = TensorSpan.Of(naiveNet.Data).ToArray();
        const int batch = 4;
        for (int step = 1; step <= 2; step++)
        {
            var h = layout.HiddenLayers.Select((l, n) => Enumerable.Range(0, batch * l.Units).Select(k => ((k * (3 + step) + n) % 9) / 4f).ToArray()).ToArray();
            Tensor[] activations = [.. layout.HiddenLayers.Select((l, n) => tensor(h[n]).view(batch, l.Units))];
            fused.Cbp!.AfterStep(activations);
            naive.Cbp!.AfterStep(activations);
            foreach (var a in activations) a.Dispose();

            var (_, fusedUnits) = OptimizerState.ReadCbp(fused.Cbp);
            var (_, naiveUnits) = OptimizerState.ReadCbp(naive.Cbp);
            for (int n = 0; n < layout.HiddenLayers.Count; n++)
            {
                var l = layout.HiddenLayers[n];
                var f = new float[l.Units];
                var u = new float[l.Units];
                for (int i = 0; i < l.Units; i++)
                {
                    double mean = 0, meanAbs = 0, outgoing = 0;
                    for (int b = 0; b < batch; b++)
                    {
                        mean += h[n][b * l.Units + i] / (double)batch;
                        meanAbs += Math.Abs(h[n][b * l.Units + i]) / (double)batch;
                    }
                    for (int k = 0; k < l.NextOut; k++) outgoing += Math.Abs(weights[l.WeightOutOffset + k * l.Units + i]);
                    f[i] = (float)mean;
                    u[i] = (float)(outgoing / l.NextOut * meanAbs);
                    Assert.Equal(mean, f[i]);          // exact in float32, as the comment says
                    Assert.Equal(outgoing / l.NextOut * meanAbs, u[i]);
                }
                Assert.Equal(f, naiveUnits[n].F);
                Assert.Equal(u, naiveUnits[n].U);
                Assert.Equal(f, fusedUnits[n].F);
                Assert.Equal(u, fusedUnits[n].U);
                Assert.All(fusedUnits[n].Age, a => Assert.Equal(step, a));
                Assert.Contains(u, x => x > 0);
            }
        }
    }

    [Fact]
    public void CbpiTakesEachOfCbpsPresetsWithDecayZero()
    {
        var config = ReadTrain("--method", "cbpi", "--out", "d").Config;
        Assert.Equal(new PpoMethod("CbpInstantaneous"), config.Ppo.Method);
        Assert.Equal(CbpSettings.Nature2024 with { Decay = 0 }, config.MethodSettings);
        Assert.Equal(CbpSettings.Seed2023 with { Decay = 0 }, ReadTrain("--method", "cbpi", "--out", "d", "--cbp-preset", "seed2023").Config.MethodSettings);
        Assert.Equal(CbpSettings.Seed2023 with { Decay = 0 }, ReadTrain("--method", "cbpi", "--out", "d", "--preset", "seed2023").Config.MethodSettings);
        Assert.Equal(CbpSettings.Nature2024 with { Decay = 0.5 }, ReadTrain("--method", "cbpi", "--out", "d", "--decay", "0.5").Config.MethodSettings);
        Assert.Equal(CbpSettings.Nature2024, ReadTrain("--method", "cbp", "--out", "d").Config.MethodSettings);
        Assert.Equal(CbpSettings.Nature2024 with { Decay = 0 }, ReadTrain("--method", "cbp", "--out", "d", "--decay", "0").Config.MethodSettings);
        var option = new CbpGpu.Runner.Commands.TrainCommand().Options.Single(o => o.Name == "--decay");
        Assert.EndsWith("(default from --cbp-preset: nature2024 0.99, seed2023 0.99; cbpi: 0)", option.Description);
        var maturity = new CbpGpu.Runner.Commands.TrainCommand().Options.Single(o => o.Name == "--maturity");
        Assert.EndsWith("(default from --cbp-preset: nature2024 10,000, seed2023 500)", maturity.Description);
        Assert.Equal(MethodRegistry.FindWord("cbp")!.Nature2024Adam, MethodRegistry.FindWord("cbpi")!.Nature2024Adam);

        // --config gives decay 0 back as a flag, which reads back to the same run.
        string json = config.ToJson();
        Directory.CreateDirectory(_root);
        string file = Path.Combine(_root, "config.json");
        File.WriteAllText(file, json);
        Assert.Equal(json, ReadTrain(CbpGpu.Runner.Cli.ConfigArguments.Expand(["train", "--config", file, "--out", "d"])[1..]).Config.ToJson());
    }

    private static string[] Train(string method, string dir, string steps, params string[] more) =>
        ["train", "--method", method, "--preset", "constant", "--envs", "16", "--steps", steps, "--threads", "2", "--out", dir,
         "--maturity", "50", "--replacement-rate", "1e-2", .. more];

    [Fact]
    public void ATrainingRunResumesExactlyAndDiffersFromCbp()
    {
        string straight = Path.Combine(_root, "straight"), split = Path.Combine(_root, "split"), cbp = Path.Combine(_root, "cbp");
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train("cbpi", straight, "6144")));
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train("cbpi", split, "2048")));
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train("cbpi", split, "6144", "--resume")));
        Assert.Equal(TrainRuns.Episodes(straight), TrainRuns.Episodes(split));
        Assert.Equal(TrainRuns.UpdatesWithoutTimings(straight), TrainRuns.UpdatesWithoutTimings(split));
        Assert.Contains(TrainRuns.UpdateColumns(straight, ["replaced_policy_h1", "replaced_policy_h2", "replaced_value_h1", "replaced_value_h2"]).Skip(1),
            r => r.Split(',').Any(c => long.Parse(c) > 0));

        // The same replacements at the same steps under cbp pick other units: the utilities differ.
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train("cbp", cbp, "6144")));
        Assert.NotEqual(TrainRuns.UpdatesWithoutTimings(straight)[1..], TrainRuns.UpdatesWithoutTimings(cbp)[1..]);
    }
}
