using CbpGpu.Tests;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;

namespace CbpGpu.Tests.Agent;

/// <summary>config.json (and a checkpoint's copy of it) in the shapes earlier builds wrote: read as today's settings, or refused by name.</summary>
public sealed class ConfigMigrationTests : IDisposable
{
    private readonly string _root = NewRoot("migration");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    /// <summary>Today's JSON of <paramref name="config"/> rewritten into the shape builds before 6cbb553 (and before evaluation) wrote.</summary>
    private static string OldShape(TrainConfig config)
    {
        var root = JsonNode.Parse(config.ToJson())!.AsObject();
        var ppo = root["Ppo"]!.AsObject();
        Assert.Equal("Batch", (string?)ppo["Advantages"]);
        ppo.Remove("Advantages");
        ppo["NormalizeAdvantages"] = true;
        ppo.Remove("Network");
        ppo.Remove("MaxGradNorm");
        root.Remove("Eval");
        root["Env"]!["Ant"]!.AsObject().Remove("Engine");
        if (root["Cbp"] is JsonObject cbp)
        {
            cbp["ResetOptimizerState"] = (string?)cbp["AdamReset"] switch { "None" => false, "MomentsAndStepCounters" => true, var other => throw new ArgumentException(other) };
            cbp.Remove("AdamReset");
            cbp.Remove("ResetBias");
            cbp.Remove("NewRowBound");
        }
        return root.ToJsonString();
    }

    [Fact]
    public void AConfigWrittenBeforeTheReportsLearnerReadsAsTheSameSettingsToday()
    {
        // What a945652 wrote for `sweep --methods cbp --preset nature2024-ant --steps 5M` (seed 0), reduced to the keys
        // that changed since: NormalizeAdvantages and ResetOptimizerState, and no Network, MaxGradNorm, Engine or Eval.
        var today = new TrainConfig(EnvSettings.NatureAnt(1), PpoSettings.For(PpoMethod.Cbp), new RunSettings(0, 5_001_216, "cpu", 1, 2, 100), CbpSettings.Nature2024);
        string old = OldShape(today);
        Assert.DoesNotContain("\"Network\"", old);
        Assert.Contains("\"ResetOptimizerState\":false", old);
        Assert.Equal(today, TrainConfig.FromJson(old));
        Assert.Equal(today.ToJson(), TrainConfig.FromJson(old).ToJson());

        // The switch on meant moments and step counters of the replaced unit's weights and bias.
        var reset = today with { MethodSettings = CbpSettings.Nature2024 with { AdamReset = AdamStateReset.MomentsAndStepCounters } };
        Assert.Contains("\"ResetOptimizerState\":true", OldShape(reset));
        Assert.Equal(reset, TrainConfig.FromJson(OldShape(reset)));
    }

    [Fact]
    public void SettingsWithNoEquivalentTodayOrMissingAreRefusedByName()
    {
        var std = new TrainConfig(EnvSettings.NatureAnt(1), PpoSettings.For(PpoMethod.Standard), new RunSettings(0, 4096, "cpu", 1, 2, 100));
        string unnormalised = OldShape(std).Replace("\"NormalizeAdvantages\":true", "\"NormalizeAdvantages\":false", StringComparison.Ordinal);
        var e = Assert.Throws<JsonException>(() => TrainConfig.FromJson(unnormalised));
        Assert.Contains("Ppo.NormalizeAdvantages is false", e.Message);

        // A setting without a default that no migration step supplies is an error, never a zero.
        var root = JsonNode.Parse(std.ToJson())!.AsObject();
        root["Ppo"]!.AsObject().Remove("Adam");
        var missing = Assert.Throws<JsonException>(() => TrainConfig.FromJson(root.ToJsonString()));
        Assert.Contains("Adam", missing.Message);
    }

    [Fact]
    public void ACheckpointRecordingTheOldShapeResumesToTheFilesOfAnUninterruptedRun()
    {
        // A CBP run stopped after 1 of 3 updates; its checkpoint's run block and config.json are rewritten into the old
        // shape (as an earlier build left them), and today's build resumes it.
        var config = Config(3 * 2048, PpoMethod.Cbp) with { MethodSettings = CbpSettings.Nature2024 with { MaturityThreshold = 5, ReplacementRate = 0.05 } };
        string straight = Path.Combine(_root, "straight"), split = Path.Combine(_root, "split");
        Train(straight, config);
        Train(split, config with { Run = config.Run with { TotalSteps = 2048 } });
        string old = OldShape(config with { Run = config.Run with { TotalSteps = 2048 } });
        RewriteRecordedConfig(Path.Combine(split, RunDirectory.CheckpointFile), old);
        File.WriteAllText(Path.Combine(split, RunDirectory.ConfigFile), JsonNode.Parse(old)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        Train(split, config, resume: true);
        Assert.Equal(Episodes(straight), Episodes(split));
        Assert.Equal(UpdatesWithoutTimings(straight), UpdatesWithoutTimings(split));
        Assert.True(UpdateColumns(straight, ["replaced_policy_h1"]).Skip(1).Any(r => r != "0"), "expected CBP to replace units in these updates");
    }

    /// <summary>Replaces the configuration recorded in a checkpoint's "run" block (docs/formats.md#checkpointbin) and reseals the file.</summary>
    private static void RewriteRecordedConfig(string path, string json)
    {
        using var input = new BinaryReader(new MemoryStream(File.ReadAllBytes(path)), Encoding.UTF8);
        string magic = input.ReadString();
        int format = input.ReadInt32();
        long length = input.ReadInt64();
        input.ReadBytes(32);
        var blocks = new MemoryStream();
        using (var output = new BinaryWriter(blocks, Encoding.UTF8, leaveOpen: true))
        {
            var end = input.BaseStream.Position + length;
            while (input.BaseStream.Position < end)
            {
                string name = input.ReadString();
                int version = input.ReadInt32();
                byte[] payload = input.ReadBytes((int)input.ReadInt64());
                if (name == "run")
                {
                    using var block = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
                    block.ReadString();
                    var rewritten = new MemoryStream();
                    using (var w = new BinaryWriter(rewritten, Encoding.UTF8, leaveOpen: true))
                    {
                        w.Write(json);
                        w.Write(block.ReadBytes(payload.Length));
                    }
                    payload = rewritten.ToArray();
                }
                output.Write(name);
                output.Write(version);
                output.Write((long)payload.Length);
                output.Write(payload);
            }
        }
        byte[] all = blocks.ToArray();
        using var file = new BinaryWriter(File.Create(path), Encoding.UTF8);
        file.Write(magic);
        file.Write(format);
        file.Write((long)all.Length);
        file.Write(SHA256.HashData(all));
        file.Write(all);
    }
}
