using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Kernels;

/// <summary>Saving and loading the optimizer's and CBP's state payloads, fused and naive.</summary>
public class SavedStateTests
{
    private static readonly CbpSettings Settings = new(UtilityKind.AdaptableContribution, 0.99, ReplacementRate: 0.05,
        MaturityThreshold: 3, ReplacementCountRule.Accumulate, NextBiasCorrection: true, AdamStateReset.MomentsAndStepCounters);

    private static readonly AdamSettings Adam = new(1e-3, 0.99, 0.99, 1e-8, 1e-4);

    private static FlatParameters Network(int hidden, int seed)
    {
        var parameters = new FlatParameters(new ParameterLayout(9, hidden, 3), CPU);
        using var generator = new Generator((ulong)seed);
        parameters.Initialize(generator);
        return parameters;
    }

    [Theory]
    [InlineData(OptimizerImpl.Fused)]
    [InlineData(OptimizerImpl.Naive)]
    public void ARunResumedFromSavedStateContinuesBitForBit(OptimizerImpl impl)
    {
        using var a = Network(16, seed: 4);
        using var b = Network(16, seed: 999);
        using var pairA = OptimizerPair.Create(a, Adam, Settings, impl, 8);
        var data = new Random(2);
        for (int s = 0; s < 20; s++) Step(a, pairA, data);

        // Resume b from a's state: parameters, optimizer state, CBP state (ages, f, u, RNG, fractions).
        byte[] optimizer = OptimizerState.Bytes(pairA.Optimizer.Save);
        byte[] cbp = OptimizerState.Bytes(pairA.Cbp!.Save);
        TensorSpan.Of(a.Data).CopyTo(TensorSpan.Of(b.Data));
        using var pairB = OptimizerPair.Create(b, Adam, Settings, impl, 12345);
        using (var reader = new BinaryReader(new MemoryStream(optimizer))) pairB.Optimizer.Load(reader);
        using (var reader = new BinaryReader(new MemoryStream(cbp))) pairB.Cbp!.Load(reader);

        var dataA = new Random(5);
        var dataB = new Random(5);
        long before = pairA.Cbp.TotalReplaced(0);
        for (int s = 0; s < 30; s++)
        {
            Step(a, pairA, dataA);
            Step(b, pairB, dataB);
            Tolerance.BitwiseEqual(TensorSpan.Of(a.Data), TensorSpan.Of(b.Data), $"parameters {s} steps after resuming");
        }
        Assert.True(pairA.Cbp.TotalReplaced(0) - before > 5);
        Assert.Equal(OptimizerState.Bytes(pairA.Optimizer.Save), OptimizerState.Bytes(pairB.Optimizer.Save));
        Assert.Equal(OptimizerState.Bytes(pairA.Cbp.Save), OptimizerState.Bytes(pairB.Cbp!.Save));
    }

    [Theory]
    [InlineData(OptimizerImpl.Fused)]
    [InlineData(OptimizerImpl.Naive)]
    public void StateOfOtherNetworksOrOfAnotherLengthIsRejectedWithAClearError(OptimizerImpl impl)
    {
        using var small = Network(16, seed: 1);
        using var large = Network(20, seed: 1);
        using var pairSmall = OptimizerPair.Create(small, Adam, Settings, impl, 1);
        using var pairLarge = OptimizerPair.Create(large, Adam, Settings, impl, 1);
        byte[] optimizer = OptimizerState.Bytes(pairSmall.Optimizer.Save);
        byte[] cbp = OptimizerState.Bytes(pairSmall.Cbp!.Save);

        var e = Assert.Throws<InvalidDataException>(() => Load(pairLarge.Optimizer.Load, optimizer));
        Assert.Contains($"state of {small.Layout.TotalSize} parameters does not fit these networks' {large.Layout.TotalSize}", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Load(pairLarge.Cbp!.Load, cbp));
        Assert.Contains("has 16 units, the network 20", e.Message);

        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Load(pairSmall.Optimizer.Load, optimizer[..^1])).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Load(pairSmall.Cbp.Load, cbp[..^1])).Message);
        Assert.Contains("1 more bytes", Assert.Throws<InvalidDataException>(() => Load(pairSmall.Optimizer.Load, [.. optimizer, 0])).Message);
        Assert.Contains("1 more bytes", Assert.Throws<InvalidDataException>(() => Load(pairSmall.Cbp.Load, [.. cbp, 0])).Message);
        // The intact payloads still load.
        Load(pairSmall.Optimizer.Load, optimizer);
        Load(pairSmall.Cbp.Load, cbp);
    }

    private static void Load(Action<BinaryReader> load, byte[] payload)
    {
        using var reader = new BinaryReader(new MemoryStream(payload));
        load(reader);
    }

    private static void Step(FlatParameters net, OptimizerPair pair, Random data)
    {
        var g = TensorSpan.Of(net.Grad);
        foreach (var s in net.Layout.Parameters)
            for (long i = s.Offset; i < s.Offset + s.Length; i++) g[(int)i] = (float)(data.NextDouble() * 2 - 1);
        pair.Optimizer.Step();
        var activations = net.Layout.HiddenLayers.Select(l => tensor(TestNetwork.ActivationValues(l.Units, 8, data)).view(8, l.Units)).ToArray();
        pair.Cbp!.AfterStep(activations);
        foreach (var x in activations) x.Dispose();
    }
}
