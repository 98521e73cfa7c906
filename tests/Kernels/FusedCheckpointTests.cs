using CbpGpu.Agent.Optimization;
using CbpGpu.Kernels;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Kernels;

public class FusedCheckpointTests
{
    private static readonly CbpSettings Settings = new(UtilityKind.AdaptableContribution, 0.99, ReplacementRate: 0.05,
        MaturityThreshold: 3, ReplacementCountRule.Accumulate, NextBiasCorrection: true, ResetOptimizerState: true);

    [Fact]
    public void ARunResumedFromSavedStateContinuesBitForBit()
    {
        var h = AdamHyperparameters.Cbp(1e-3);
        using var a = new TorchNetwork(9, 16, 12, 3, seed: 4);
        using var b = new TorchNetwork(9, 16, 12, 3, seed: 999);
        using var adamA = new FusedAgedAdam(a.Data, a.Grad, h);
        using var cbpA = new FusedCbp(adamA, a.Layers, Settings, seed: 8);
        var data = new Random(2);
        for (int s = 0; s < 20; s++) Step(a, adamA, cbpA, data);

        // Resume b from a's checkpoint: parameters, optimizer state, CBP state (ages, f, u, RNG, fractions).
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            adamA.Save(writer);
            cbpA.Save(writer);
        }
        TorchNetwork.Span(a.Data).CopyTo(TorchNetwork.Span(b.Data));
        using var adamB = new FusedAgedAdam(b.Data, b.Grad, h);
        using var cbpB = new FusedCbp(adamB, b.Layers, Settings, seed: 12345);
        stream.Position = 0;
        using (var reader = new BinaryReader(stream))
        {
            adamB.Load(reader);
            cbpB.Load(reader);
        }

        var dataA = new Random(5);
        var dataB = new Random(5);
        int replaced = 0;
        for (int s = 0; s < 30; s++)
        {
            replaced += Step(a, adamA, cbpA, dataA);
            Step(b, adamB, cbpB, dataB);
            Tolerance.BitwiseEqual(TorchNetwork.Span(a.Data), TorchNetwork.Span(b.Data), $"parameters {s} steps after resuming");
        }
        Assert.True(replaced > 5);
    }

    [Fact]
    public void StateOfOtherNetworksIsRejectedWithAClearError()
    {
        var h = AdamHyperparameters.Cbp();
        using var small = new TorchNetwork(9, 16, 12, 3, seed: 1);
        using var large = new TorchNetwork(9, 20, 12, 3, seed: 1);
        using var adamSmall = new FusedAgedAdam(small.Data, small.Grad, h);
        using var adamLarge = new FusedAgedAdam(large.Data, large.Grad, h);
        using var cbpSmall = new FusedCbp(adamSmall, small.Layers, Settings, 1);
        using var cbpLarge = new FusedCbp(adamLarge, large.Layers, Settings, 1);
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            adamSmall.Save(writer);
            cbpSmall.Save(writer);
        }
        stream.Position = 0;
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        var e = Assert.Throws<InvalidDataException>(() => adamLarge.Load(reader));
        Assert.Contains("does not fit", e.Message);

        var truncated = new MemoryStream(stream.ToArray()[..40]);
        Assert.Throws<InvalidDataException>(() => adamSmall.Load(new BinaryReader(truncated)));
    }

    private static int Step(TorchNetwork net, FusedAgedAdam adam, FusedCbp cbp, Random data)
    {
        net.FillGradients(data);
        adam.Step();
        var activations = net.Layers.Select(l => tensor(TestNetwork.Activations(l.Units, 8, data)).view(8, l.Units)).ToArray();
        int n = cbp.AfterStep(activations);
        foreach (var x in activations) x.Dispose();
        return n;
    }
}
