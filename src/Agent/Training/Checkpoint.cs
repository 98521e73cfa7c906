using System.Security.Cryptography;
using System.Text;

namespace CbpGpu.Agent.Training;

/// <summary>
/// Everything a run needs to continue exactly where it stopped: configuration, counters, the flat parameters,
/// optimizer and hook state, the sampling generator, the envs (VectorEnv.SaveState) and how long the logs were.
/// The file is a header (magic, version, payload length, SHA-256) and the payload, written to a temporary file
/// and renamed, so a crash mid-write leaves the previous checkpoint intact and corruption is detected on load.
/// </summary>
public sealed class Checkpoint
{
    public const string FileName = "checkpoint.bin";
    private const string Magic = "CBPGPU-CHECKPOINT";
    private const int Version = 1;

    public required string ConfigJson { get; init; }
    public required int Updates { get; init; }
    public required long EnvSteps { get; init; }
    public required long Episodes { get; init; }
    public required long EpisodesCsvLength { get; init; }
    public required long UpdatesCsvLength { get; init; }
    public required double ElapsedSeconds { get; init; }
    public required float[] Parameters { get; init; }
    public required byte[] Optimizer { get; init; }
    public required byte[]? Hook { get; init; }
    public required byte[] Generator { get; init; }
    public required byte[] Envs { get; init; }
    public required double[] RecentReturns { get; init; }

    public void Write(string path)
    {
        using var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(ConfigJson);
            w.Write(Updates);
            w.Write(EnvSteps);
            w.Write(Episodes);
            w.Write(EpisodesCsvLength);
            w.Write(UpdatesCsvLength);
            w.Write(ElapsedSeconds);
            w.Write(Parameters.Length);
            foreach (float p in Parameters) w.Write(p);
            WriteBlob(w, Optimizer);
            w.Write(Hook is not null);
            if (Hook is not null) WriteBlob(w, Hook);
            WriteBlob(w, Generator);
            WriteBlob(w, Envs);
            w.Write(RecentReturns.Length);
            foreach (double r in RecentReturns) w.Write(r);
        }
        byte[] bytes = payload.ToArray();
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        using (var w = new BinaryWriter(file))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write((long)bytes.Length);
            w.Write(SHA256.HashData(bytes));
            w.Write(bytes);
            w.Flush();
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads and verifies a checkpoint; any problem is one clear line naming the file.</summary>
    public static Checkpoint Read(string path)
    {
        if (!File.Exists(path)) throw new TrainingException($"no checkpoint at {path}; start the run without --resume");
        try
        {
            using var file = File.OpenRead(path);
            using var r = new BinaryReader(file);
            if (r.ReadString() != Magic) throw new InvalidDataException("not a CbpGpu checkpoint");
            int version = r.ReadInt32();
            if (version != Version) throw new InvalidDataException($"format version {version}, this build reads {Version}");
            long length = r.ReadInt64();
            byte[] hash = r.ReadBytes(32);
            if (length < 0 || length != file.Length - file.Position) throw new InvalidDataException("truncated");
            byte[] bytes = r.ReadBytes((int)length);
            if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(hash)) throw new InvalidDataException("checksum mismatch");
            using var p = new BinaryReader(new MemoryStream(bytes));
            string config = p.ReadString();
            int updates = p.ReadInt32();
            long envSteps = p.ReadInt64();
            long episodes = p.ReadInt64();
            long episodesLength = p.ReadInt64();
            long updatesLength = p.ReadInt64();
            double elapsed = p.ReadDouble();
            var parameters = new float[p.ReadInt32()];
            for (int i = 0; i < parameters.Length; i++) parameters[i] = p.ReadSingle();
            byte[] optimizer = ReadBlob(p);
            byte[]? hook = p.ReadBoolean() ? ReadBlob(p) : null;
            byte[] generator = ReadBlob(p);
            byte[] envs = ReadBlob(p);
            var recent = new double[p.ReadInt32()];
            for (int i = 0; i < recent.Length; i++) recent[i] = p.ReadDouble();
            return new Checkpoint
            {
                ConfigJson = config, Updates = updates, EnvSteps = envSteps, Episodes = episodes,
                EpisodesCsvLength = episodesLength, UpdatesCsvLength = updatesLength, ElapsedSeconds = elapsed,
                Parameters = parameters, Optimizer = optimizer, Hook = hook, Generator = generator, Envs = envs,
                RecentReturns = recent,
            };
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or ArgumentException or OverflowException)
        {
            throw new TrainingException($"checkpoint {path} is corrupt ({e.Message}); nothing was changed", e);
        }
    }

    private static void WriteBlob(BinaryWriter w, byte[] blob)
    {
        w.Write(blob.Length);
        w.Write(blob);
    }

    private static byte[] ReadBlob(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n < 0) throw new InvalidDataException("negative length");
        byte[] b = r.ReadBytes(n);
        if (b.Length != n) throw new EndOfStreamException();
        return b;
    }
}
