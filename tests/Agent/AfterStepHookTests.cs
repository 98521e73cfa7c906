using CbpGpu.Agent;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>The seam where CBP plugs in: called after every optimizer step with that minibatch's hidden activations.</summary>
public sealed class AfterStepHookTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cbpgpu-hook-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    /// <summary>Checks every call, and on call <see cref="PoisonAt"/> writes NaN into the parameters (a CBP bug, say).</summary>
    private sealed class RecordingHook(FlatParameters parameters, int poisonAt) : IAfterStepHook
    {
        public int Calls;
        public int PoisonAt = poisonAt;
        public float[]? LastDataSeen;

        public void AfterStep(in HiddenActivations a)
        {
            Calls++;
            if (PoisonAt > 0 && Calls > PoisonAt) return;   // NaN from here on; the trainer must notice
            for (int layer = 0; layer < 4; layer++)
            {
                Assert.Equal([128L, 256L], a[layer].shape);
                Assert.False(a[layer].requires_grad);
                Assert.True(a[layer].min().item<float>() >= 0f, "post-ReLU activations are never negative");
            }
            // The step already happened: the parameters differ from what the previous call saw.
            float[] now = parameters.ToArray();
            if (LastDataSeen is not null) Assert.NotEqual(LastDataSeen, now);
            LastDataSeen = now;
            if (Calls == PoisonAt)
                using (no_grad()) parameters.Data.fill_(float.NaN);
        }

        public void Save(BinaryWriter writer) => writer.Write(Calls);
        public void Load(BinaryReader reader) => Calls = reader.ReadInt32();
    }

    private static TrainConfig Config() =>
        new(EnvSettings.Constant(16, 1.0), PpoSettings.For(PpoMethod.Standard), new RunSettings(3, 2048, "cpu", 2, 2, 1));

    [Fact]
    public void HookRunsAfterEveryOptimizerStepWithTheMinibatchActivations()
    {
        RecordingHook? hook = null;
        using (var trainer = new Trainer(Config(), _dir, false, TextWriter.Null, hookFactory: (p, _) => hook = new RecordingHook(p, poisonAt: -1)))
            trainer.Run(CancellationToken.None);
        Assert.Equal(10 * 16, hook!.Calls);   // epochs x minibatches of one update
    }

    [Fact]
    public void NonFiniteLossStopsTrainingWithALineNamingWhere()
    {
        RecordingHook? hook = null;
        var e = Assert.Throws<TrainingException>(() =>
        {
            using var trainer = new Trainer(Config(), _dir, false, TextWriter.Null, hookFactory: (p, _) => hook = new RecordingHook(p, poisonAt: 5));
            trainer.Run(CancellationToken.None);
        });
        Assert.Contains("update 1", e.Message);
        Assert.Contains("policy loss is NaN in epoch 1, minibatch 6", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // Logs are flushed (episodes that ended during the rollout are there); no checkpoint claims the bad state.
        Assert.True(File.ReadAllLines(Path.Combine(_dir, Trainer.EpisodesFile)).Length > 1);
        Assert.False(File.Exists(Path.Combine(_dir, Checkpoint.FileName)));
    }
}
