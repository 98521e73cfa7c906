using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Optimization;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// Where CBP plugs into PPO: <see cref="PpoUpdate"/> calls <see cref="IContinualBackprop.AfterStep"/> after every
/// optimizer step with that minibatch's hidden activations; <see cref="OptimizerPair"/> builds the CBP.
/// </summary>
public sealed class PpoUpdateContinualBackpropTests
{
    private const int Observation = 5, Hidden = 16, Actions = 2;

    // 2 epochs x 4 minibatches of 32: 8 optimizer steps per update.
    private static readonly PpoSettings Ppo = PpoSettings.For(PpoMethod.Cbp) with { HiddenUnits = Hidden, BatchSize = 128, Minibatches = 4, Epochs = 2 };

    /// <summary>Checks every call; from call <see cref="PoisonAt"/> on writes NaN into the parameters (a CBP bug, say).</summary>
    private sealed class RecordingCbp(FlatParameters parameters, int poisonAt) : IContinualBackprop
    {
        public int Calls;
        private float[]? _lastDataSeen;

        public void AfterStep(IReadOnlyList<Tensor> hiddenActivations)
        {
            Calls++;
            if (poisonAt > 0 && Calls > poisonAt) return;
            Assert.Equal(4, hiddenActivations.Count);
            foreach (var h in hiddenActivations)
            {
                Assert.Equal([32L, Hidden], h.shape);
                Assert.False(h.requires_grad);
                Assert.True(h.min().item<float>() >= 0f, "post-ReLU activations are never negative");
            }
            // The step already happened: the parameters differ from what the previous call saw.
            float[] now = parameters.ToArray();
            if (_lastDataSeen is not null) Assert.NotEqual(_lastDataSeen, now);
            _lastDataSeen = now;
            if (Calls == poisonAt)
                using (no_grad()) parameters.Data.fill_(float.NaN);
        }

        public long TotalReplaced(int layer) => 0;
        public void CopyAges(int layer, Span<int> destination) => destination.Clear();
        public void Save(BinaryWriter writer) => writer.Write(Calls);
        public void Load(BinaryReader reader) => Calls = reader.ReadInt32();
        public void Dispose() { }
    }

    private static ActorCritic Networks()
    {
        var nets = new ActorCritic(Observation, Hidden, Actions, CPU);
        using var generator = new Generator(7);
        nets.Parameters.Initialize(generator);
        return nets;
    }

    private static Rollout Rollout(int seed)
    {
        var rollout = new Rollout(steps: 128, envs: 1, Observation, Actions, Hidden);
        var random = new Random(seed);
        foreach (var t in new[] { rollout.Observations, rollout.Actions })
        {
            var span = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.bytes);
            for (int i = 0; i < span.Length; i++) span[i] = (float)(random.NextDouble() * 2 - 1);
        }
        for (int i = 0; i < rollout.Size; i++)
        {
            rollout.RewardSpan[i] = (float)random.NextDouble();
            rollout.TerminatedSpan[i] = random.Next(50) == 0;
        }
        return rollout;
    }

    private static UpdateStats Update(ActorCritic nets, OptimizerPair pair, IContinualBackprop? cbp, int seed)
    {
        using var rollout = Rollout(seed);
        using var generator = new Generator(11);
        using var update = new PpoUpdate(nets, pair.Optimizer, cbp, Ppo, generator, CPU);
        return update.Run(rollout);
    }

    [Fact]
    public void CalledAfterEveryOptimizerStepWithTheMinibatchActivations()
    {
        using var nets = Networks();
        using var pair = OptimizerPair.Create(nets.Parameters, Ppo.Adam, null, OptimizerImpl.Fused, 1);
        var cbp = new RecordingCbp(nets.Parameters, poisonAt: -1);
        var stats = Update(nets, pair, cbp, seed: 1);
        Assert.Null(stats.NonFinite);
        Assert.Equal(Ppo.Epochs * Ppo.Minibatches, cbp.Calls);
    }

    [Fact]
    public void WhatCbpBreaksShowsAsTheFirstNonFiniteLoss()
    {
        using var nets = Networks();
        using var pair = OptimizerPair.Create(nets.Parameters, Ppo.Adam, null, OptimizerImpl.Fused, 1);
        var stats = Update(nets, pair, new RecordingCbp(nets.Parameters, poisonAt: 5), seed: 1);
        Assert.Equal("policy loss is NaN in epoch 2, minibatch 2", stats.NonFinite);
    }

    [Theory]
    [InlineData(OptimizerImpl.Fused)]
    [InlineData(OptimizerImpl.Naive)]
    [InlineData(OptimizerImpl.Torch)]
    public void WithoutCbpSettingsThePairHasNoContinualBackprop(OptimizerImpl impl)
    {
        using var nets = Networks();
        using var pair = OptimizerPair.Create(nets.Parameters, Ppo.Adam, null, impl, 1);
        Assert.Null(pair.Cbp);
    }

    [Theory]
    [InlineData(OptimizerImpl.Fused)]
    [InlineData(OptimizerImpl.Naive)]
    [InlineData(OptimizerImpl.Torch)]
    public void UnitsAgeByOneEveryOptimizerStepAndMatureOnesAreReplaced(OptimizerImpl impl)
    {
        using var nets = Networks();
        // Maturity 12: no unit is eligible during the first update (8 steps). In the second, with rate 0.5 (floor(n)
        // for n >= 1, no coin), step 13 finds all 16 eligible and replaces 8, step 14 replaces 4 of the other 8,
        // step 15 2 of the other 4, step 16 1 of the last 2: 15 in all, whichever units are chosen.
        var settings = CbpSettings.Nature2024 with { MaturityThreshold = 12, ReplacementRate = 0.5 };
        using var pair = OptimizerPair.Create(nets.Parameters, Ppo.Adam, settings, impl, 1);
        var cbp = pair.Cbp!;
        var ages = new int[Hidden];

        Update(nets, pair, cbp, seed: 1);
        for (int l = 0; l < 4; l++)
        {
            Assert.Equal(0, cbp.TotalReplaced(l));
            cbp.CopyAges(l, ages);
            Assert.All(ages, a => Assert.Equal(8, a));
        }

        float[] before = nets.Parameters.ToArray();
        Update(nets, pair, cbp, seed: 2);
        for (int l = 0; l < 4; l++)
        {
            Assert.Equal(15, cbp.TotalReplaced(l));
            cbp.CopyAges(l, ages);
            Array.Sort(ages);
            Assert.Equal([0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 16], ages);
        }
        Assert.NotEqual(before, nets.Parameters.ToArray());
    }
}
