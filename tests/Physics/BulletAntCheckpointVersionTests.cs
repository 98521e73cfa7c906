using System.Security.Cryptography;
using System.Text;
using CbpGpu.Tests.Runner;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// A Bullet run started before the Bullet Ant solved contacts in PyBullet's order (issue 23) cannot be replayed bit
/// for bit by this build: `train --resume` refuses it by its envs block version with one error: line saying why and
/// what to do, and changes nothing in the run directory (docs/bullet-ant.md#checkpoints).
/// </summary>
public sealed class BulletAntCheckpointVersionTests : IDisposable
{
    private readonly string _root = NewRoot("bullet-version");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private static string[] Train(string dir, long steps, bool resume = false) =>
    [
        "train", "--method", "std", "--preset", "seed2023", "--envs", "4", "--batch-size", "1024",
        "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", "3",
        "--checkpoint-every", "1", "--checkpoint-minutes", "0", "--out", dir, .. resume ? new[] { "--resume" } : [],
    ];

    /// <summary>
    /// Rewrites the version of one block of a checkpoint (docs/formats.md#checkpointbin: magic, format version, payload
    /// length, SHA-256 of the payload, then blocks of name, version, length, bytes), the checksum recomputed.
    /// </summary>
    private static void SetBlockVersion(string path, string block, int version)
    {
        byte[] file = File.ReadAllBytes(path);
        using var r = new BinaryReader(new MemoryStream(file), Encoding.UTF8);
        r.ReadString();
        r.ReadInt32();
        long length = r.ReadInt64();
        int hashAt = (int)r.BaseStream.Position, payloadAt = hashAt + 32;
        r.BaseStream.Position = payloadAt;
        bool found = false;
        while (r.BaseStream.Position < file.Length)
        {
            string name = r.ReadString();
            if (name == block)
            {
                BitConverter.TryWriteBytes(file.AsSpan((int)r.BaseStream.Position, 4), version);
                found = true;
            }
            r.ReadInt32();
            long blockLength = r.ReadInt64();
            r.BaseStream.Position += blockLength;
        }
        Assert.True(found, $"no '{block}' block in {path}");
        SHA256.HashData(file.AsSpan(payloadAt, (int)length)).CopyTo(file.AsSpan(hashAt));
        File.WriteAllBytes(path, file);
    }

    [Fact]
    public void ARunStartedBeforePyBulletsContactOrderIsRefusedWithOneLineAndNothingChanged()
    {
        string dir = Path.Combine(_root, "run");
        var (code, _, stderr) = RunnerProcess.Run(Train(dir, 1024));
        Assert.True(code == 0, stderr);
        string checkpoint = Path.Combine(dir, CbpGpu.Agent.Training.RunDirectory.CheckpointFile);

        // Version 2: replay logs of the physics before issue 23; version 1: no replay log at all.
        foreach (var (old, why) in new[] { (2, "before the Bullet Ant solved contacts in PyBullet's order"), (1, "before Bullet runs could resume") })
        {
            SetBlockVersion(checkpoint, "envs", old);
            var before = Snapshot(dir);
            (code, string stdout, stderr) = RunnerProcess.Run(Train(dir, 2048, resume: true));
            Assert.Equal(1, code);
            string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, stderr);
            Assert.StartsWith("error: ", lines[0]);
            Assert.Contains(why, lines[0]);
            Assert.Contains("start it afresh with another --out", lines[0]);
            Assert.DoesNotContain("resumed at step", stdout);
            var after = Snapshot(dir);
            Assert.Equal(before.Keys.Order(), after.Keys.Order());
            foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
        }
    }
}
