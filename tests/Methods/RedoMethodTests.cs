using CbpGpu.Agent;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using CbpGpu.Tests.Agent;
using CbpGpu.Tests.Kernels;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Methods;

/// <summary>ReDo (docs/redo.md): scores and resets against values worked out by hand, its presets, and a resumed run.</summary>
public sealed class RedoMethodTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("redo");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    /// <summary>
    /// Batch of two, four units: |h| rows [0, 1, 2, 5] and [0, 1, 2, 3], so E|h| = [0, 1, 2, 4], the layer's mean 7/4 and
    /// the scores [0, 4/7, 8/7, 16/7] = [0, 0.571, 1.143, 2.286].
    /// </summary>
    [Theory]
    [InlineData(0.1, 0.0, new[] { 0 })]
    [InlineData(0.5, 0.0, new[] { 0 })]
    [InlineData(0.6, 0.0, new[] { 0, 1 })]
    [InlineData(4.0 / 7, 0.0, new[] { 0, 1 })]          // at most tau: 4/7 itself is dormant
    [InlineData(1.2, 0.0, new[] { 0, 1, 2 })]
    [InlineData(0.5, 1e-9, new[] { 0 })]
    public void ScoresAreMeanAbsoluteActivationOverTheLayersMean(double threshold, double epsilon, int[] expected)
    {
        using var h = tensor(new float[] { 0, 1, 2, 5, 0, -1, 2, 3 }).view(2, 4);
        var meanAbs = new double[4];
        var dormant = new int[4];
        int count = RedoHook.Dormant(h, meanAbs, new RedoSettings(threshold, 1, epsilon, false), dormant);
        Assert.Equal([0.0, 1.0, 2.0, 4.0], meanAbs);
        Assert.Equal(expected, dormant[..count]);
    }

    /// <summary>A silent layer: 0/0 with the authors' epsilon 0 resets nothing (their NaN), 0/1e-9 with Sokar et al.'s resets all.</summary>
    [Fact]
    public void ASilentLayerIsLeftAloneByTheAuthorsFormAndResetBySokars()
    {
        using var h = zeros(3, 4);
        var meanAbs = new double[4];
        var dormant = new int[4];
        Assert.Equal(0, RedoHook.Dormant(h, meanAbs, RedoSettings.Nature2024, dormant));
        Assert.Equal(4, RedoHook.Dormant(h, meanAbs, RedoSettings.Sokar2023, dormant));
        Assert.Equal([0, 1, 2, 3], dormant);
    }

    /// <summary>
    /// A network of 3 inputs, 4 hidden units and 2 actions. Unit 1 of policy.h1 is silent on the minibatch (scores 0), the
    /// others are not (the other three layers are all active). After the check: its incoming row is the row of the first
    /// key the hook's SplitMix64 draws, U(+-sqrt(3/3)); its bias 0; its outgoing column (policy.h2's weights from it) 0;
    /// every other parameter as it was; its age 0 and the others' 1 (one optimizer step). With the Sokar preset, Adam's m
    /// and v of exactly those incoming and outgoing weights are zeroed, the bias's and every step counter kept.
    /// </summary>
    [Theory]
    [InlineData(OptimizerImpl.Naive, false)]
    [InlineData(OptimizerImpl.Naive, true)]
    [InlineData(OptimizerImpl.Fused, true)]
    public void ADormantUnitGetsAFreshRowNoBiasAndNoOutgoingWeights(OptimizerImpl impl, bool resetAdam)
    {
        const ulong seed = 42;
        var layout = new ParameterLayout(observationSize: 3, hiddenUnits: 4, actionSize: 2);
        using var net = new FlatParameters(layout, CPU);
        using (var generator = new Generator(5)) net.Initialize(generator);
        var settings = (resetAdam ? RedoSettings.Sokar2023 : RedoSettings.Nature2024) with { Period = 1 };
        using var pair = OptimizerPair.Create(net, new AdamSettings(1e-3, 0.9, 0.999, 1e-8, 0), null, impl, 0).With(new RedoHook(net, settings, seed));
        var g = TensorSpan.Of(net.Grad);
        for (int i = 0; i < g.Length; i++) g[i] = 0.25f * ((i % 5) - 2) + 0.125f;   // never 0: every weight gets moments
        pair.Optimizer.Step();
        var h1 = layout.HiddenLayers[0];
        TensorSpan.Of(net.Data)[h1.BiasOffset + 1] = 0.5f;   // biases start at 0: give this one something to lose
        float[] before = TensorSpan.Of(net.Data).ToArray();
        var (m0, v0, t0) = OptimizerState.ReadAdam(pair.Optimizer);

        float[] active = [1, 2, 3, 4, 2, 1, 3, 1];
        float[] policyH1 = [1, 0, 3, 4, 2, 0, 3, 1];   // unit 1 silent
        Tensor[] activations = [tensor(policyH1).view(2, 4), tensor(active).view(2, 4), tensor(active).view(2, 4), tensor(active).view(2, 4)];
        pair.Hook!.AfterStep(new StepView(net, pair.Optimizer, activations));
        foreach (var a in activations) a.Dispose();

        ulong key = new SplitMix64(seed).NextUInt64();
        float bound = (float)Math.Sqrt(3.0 / 3);
        var expected = (float[])before.Clone();
        for (int j = 0; j < h1.FanIn; j++) expected[h1.WeightInOffset + 1 * h1.FanIn + j] = CbpMath.InitialWeight(key, j, bound);
        expected[h1.BiasOffset + 1] = 0f;
        for (int k = 0; k < h1.NextOut; k++) expected[h1.WeightOutOffset + k * h1.Units + 1] = 0f;
        float[] after = TensorSpan.Of(net.Data).ToArray();
        Assert.Equal(expected, after);
        Assert.All(Enumerable.Range(0, h1.FanIn), j => Assert.InRange(after[h1.WeightInOffset + h1.FanIn + j], -bound, bound));
        Assert.NotEqual(0f, before[h1.BiasOffset + 1]);   // the test would not see a bias left alone otherwise

        var hook = (IUnitReplacing)pair.Hook;
        Assert.Equal(1, hook.TotalReplaced(0));
        Assert.All(Enumerable.Range(1, 3), l => Assert.Equal(0, hook.TotalReplaced(l)));
        var ages = new int[4];
        hook.CopyAges(0, ages);
        Assert.Equal([1, 0, 1, 1], ages);
        var values = new double[4];
        pair.Hook.WriteColumns(values);
        Assert.Equal([0.25, 0, 0, 0], values);
        Assert.Equal(["redo_dormant_policy_h1", "redo_dormant_policy_h2", "redo_dormant_value_h1", "redo_dormant_value_h2"], pair.Hook.Columns);

        var (m1, v1, t1) = OptimizerState.ReadAdam(pair.Optimizer);
        Assert.Equal(t0, t1);
        var zeroed = new HashSet<int>();
        if (resetAdam)
        {
            for (int j = 0; j < h1.FanIn; j++) zeroed.Add(h1.WeightInOffset + h1.FanIn + j);
            for (int k = 0; k < h1.NextOut; k++) zeroed.Add(h1.WeightOutOffset + k * h1.Units + 1);
        }
        for (int i = 0; i < m0.Length; i++)
        {
            Assert.Equal(zeroed.Contains(i) ? 0f : m0[i], m1[i]);
            Assert.Equal(zeroed.Contains(i) ? 0f : v0[i], v1[i]);
        }
        Assert.All(zeroed, i => Assert.NotEqual(0f, m0[i]));   // they had moments to lose
        Assert.NotEqual(0f, m0[h1.BiasOffset + 1]);
        Assert.Equal(m0[h1.BiasOffset + 1], m1[h1.BiasOffset + 1]);
    }

    /// <summary>The authors' counter: a check on the Period-th step after the last one, nothing in between.</summary>
    [Fact]
    public void ChecksComeEveryPeriodOptimizerSteps()
    {
        var layout = new ParameterLayout(observationSize: 3, hiddenUnits: 4, actionSize: 2);
        using var net = new FlatParameters(layout, CPU);
        using (var generator = new Generator(5)) net.Initialize(generator);
        using var pair = OptimizerPair.Create(net, new AdamSettings(1e-3, 0.9, 0.999, 1e-8, 0), null, OptimizerImpl.Fused, 0)
            .With(new RedoHook(net, RedoSettings.Nature2024 with { Period = 3 }, 1));
        var hook = (IUnitReplacing)pair.Hook!;
        Tensor[] activations = [.. Enumerable.Range(0, 4).Select(_ => tensor(new float[] { 0, 1, 1, 1 }).view(1, 4))];
        var replaced = new List<long>();
        for (int step = 1; step <= 7; step++)
        {
            pair.Hook!.AfterStep(new StepView(net, pair.Optimizer, activations));
            replaced.Add(hook.TotalReplaced(2));
        }
        foreach (var a in activations) a.Dispose();
        Assert.Equal([0, 0, 1, 1, 1, 2, 2], replaced);
        var ages = new int[4];
        hook.CopyAges(2, ages);
        Assert.Equal([1, 7, 7, 7], ages);
    }

    [Fact]
    public void PresetsAreTheAuthorsAndSokarsAndEachKnobIsAFlag()
    {
        Assert.Equal(new RedoSettings(0.1, 100, 0, false), ReadTrain("--method", "redo", "--out", "d").Config.MethodSettings);
        Assert.Equal(new RedoSettings(0.1, 1000, 1e-9, true), ReadTrain("--method", "redo", "--out", "d", "--redo-preset", "sokar2023").Config.MethodSettings);
        Assert.Equal(new RedoSettings(0.025, 7, 1e-6, true), ReadTrain("--method", "redo", "--out", "d",
            "--redo-threshold", "0.025", "--redo-period", "7", "--redo-epsilon", "1e-6", "--redo-reset-adam").Config.MethodSettings);
        var config = ReadTrain("--method", "redo", "--out", "d", "--preset", "nature2024-ant").Config;
        Assert.Equal(new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4), MethodRegistry.AdamFor(config.Ppo.Method, seed2023: false));
        var refused = Invoke("train", "--method", "redo", "--out", Path.Combine(_root, "x"), "--redo-preset", "sokar2023", "--optimizer-impl", "torch");
        Assert.Equal(2, refused.ExitCode);
        Assert.StartsWith("error: --optimizer-impl torch cannot reset Adam moments", refused.ErrorLine);
    }

    private static string[] Train(string dir, string steps, params string[] more) =>
        ["train", "--method", "redo", "--preset", "constant", "--envs", "16", "--steps", steps, "--threads", "2", "--out", dir,
         "--redo-period", "16", "--redo-threshold", "0.3", .. more];

    /// <summary>A run split by a checkpoint writes what a straight one does, with resets and (Sokar's) Adam resets in both halves.</summary>
    [Theory]
    [InlineData("nature2024")]
    [InlineData("sokar2023")]
    public void ATrainingRunResumesExactly(string preset)
    {
        string straight = Path.Combine(_root, "straight"), split = Path.Combine(_root, "split");
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train(straight, "6144", "--redo-preset", preset)));
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train(split, "2048", "--redo-preset", preset)));
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Train(split, "6144", "--redo-preset", preset, "--resume")));
        Assert.Equal(TrainRuns.Episodes(straight), TrainRuns.Episodes(split));
        Assert.Equal(TrainRuns.UpdatesWithoutTimings(straight), TrainRuns.UpdatesWithoutTimings(split));

        string[] rows = TrainRuns.UpdateColumns(straight, ["replaced_policy_h2", "replaced_value_h2", "redo_dormant_value_h2"]);
        Assert.Contains(rows.Skip(1), r => r.Split(',').Take(2).Any(c => long.Parse(c) > 0));   // it did reset units
        using (var file = File.OpenRead(Path.Combine(straight, RunDirectory.CheckpointFile)))
            Assert.True(BlockReader.Read(file, Checkpoint.Magic, Checkpoint.FormatVersion).Has("redo"));

        // Plotted under its own name, with its unit ages (reset units are young).
        string figures = Path.Combine(_root, "figures");
        var plot = Invoke("plot", straight, "--out", figures, "--bin", "1024");
        Assert.True(plot.ExitCode == 0, plot.Error);
        Assert.Contains(Directory.GetFiles(figures, "*.csv").SelectMany(File.ReadAllLines), l => l.StartsWith("redo,", StringComparison.Ordinal));
        Assert.Contains(File.ReadAllLines(Path.Combine(figures, "unit_ages.csv")), l => l.StartsWith("redo,", StringComparison.Ordinal));
    }
}
