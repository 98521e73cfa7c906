using System.Runtime.InteropServices;
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

    /// <summary>
    /// Streams a checkpoint to <paramref name="path"/> (via a temporary file and a rename). The parts are written
    /// straight from their owners to the file, so a checkpoint allocates no buffers the size of the networks:
    /// a long run's memory stays flat.
    /// </summary>
    public static void Write(string path, CheckpointContent c)
    {
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        using (var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            long headerEnd = file.Position;
            w.Write(0L);
            w.Write(new byte[32]);
            long payloadStart = file.Position;
            w.Write(c.ConfigJson);
            w.Write(c.Updates);
            w.Write(c.EnvSteps);
            w.Write(c.Episodes);
            w.Write(c.EpisodesCsvLength);
            w.Write(c.UpdatesCsvLength);
            w.Write(c.ElapsedSeconds);
            WriteBlob(w, c.Parameters);
            WriteBlob(w, c.Optimizer);
            w.Write(c.Hook is not null);
            if (c.Hook is not null) WriteBlob(w, c.Hook);
            WriteBlob(w, x => x.Write(c.Generator));
            WriteBlob(w, c.Envs);
            w.Write(c.RecentReturns.Length);
            foreach (double r in c.RecentReturns) w.Write(r);
            w.Flush();

            long payloadLength = file.Length - payloadStart;
            file.Position = payloadStart;
            byte[] hash = Sha256(file, payloadLength);
            file.Position = headerEnd;
            w.Write(payloadLength);
            w.Write(hash);
            w.Flush();
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>A length-prefixed part written in place: placeholder length, the part, then the real length.</summary>
    private static void WriteBlob(BinaryWriter w, Action<BinaryWriter> write)
    {
        w.Flush();
        var stream = w.BaseStream;
        long lengthAt = stream.Position;
        w.Write(0);
        write(w);
        w.Flush();
        long end = stream.Position;
        long length = end - lengthAt - sizeof(int);
        if (length > int.MaxValue) throw new InvalidOperationException("checkpoint part over 2 GB");
        stream.Position = lengthAt;
        w.Write((int)length);
        w.Flush();
        stream.Position = end;
    }

    private static byte[] Sha256(Stream stream, long length)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 16];
        while (length > 0)
        {
            int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, length));
            if (n <= 0) throw new EndOfStreamException();
            sha.AppendData(buffer, 0, n);
            length -= n;
        }
        return sha.GetHashAndReset();
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
            byte[] parameterBytes = ReadBlob(p);
            if (parameterBytes.Length % sizeof(float) != 0) throw new InvalidDataException("parameter block is not whole floats");
            float[] parameters = MemoryMarshal.Cast<byte, float>(parameterBytes).ToArray();
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

    private static byte[] ReadBlob(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n < 0) throw new InvalidDataException("negative length");
        byte[] b = r.ReadBytes(n);
        if (b.Length != n) throw new EndOfStreamException();
        return b;
    }
}

/// <summary>What <see cref="Checkpoint.Write"/> streams: counters, and writers for the large parts.</summary>
public sealed class CheckpointContent
{
    public required string ConfigJson { get; init; }
    public required int Updates { get; init; }
    public required long EnvSteps { get; init; }
    public required long Episodes { get; init; }
    public required long EpisodesCsvLength { get; init; }
    public required long UpdatesCsvLength { get; init; }
    public required double ElapsedSeconds { get; init; }

    /// <summary>Writes the flat parameters as raw little-endian float32, nothing else.</summary>
    public required Action<BinaryWriter> Parameters { get; init; }
    public required Action<BinaryWriter> Optimizer { get; init; }
    public required Action<BinaryWriter>? Hook { get; init; }
    public required byte[] Generator { get; init; }
    public required Action<BinaryWriter> Envs { get; init; }
    public required double[] RecentReturns { get; init; }
}
