using System.Security.Cryptography;
using System.Text;

namespace CbpGpu.Agent.Training;

/// <summary>
/// Reads what <see cref="BlockWriter"/> wrote: checks magic, format version, length and checksum of the whole file
/// first, then hands out blocks by name. Every problem is an <see cref="InvalidDataException"/> whose message names
/// the block and what does not fit.
/// </summary>
public sealed class BlockReader
{
    private readonly Dictionary<string, (int Version, byte[] Payload)> _blocks;

    private BlockReader(Dictionary<string, (int, byte[])> blocks) => _blocks = blocks;

    public static BlockReader Read(Stream stream, string magic, int formatVersion)
    {
        try
        {
            using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            string found = r.ReadString();
            if (found != magic) throw new InvalidDataException($"not a {magic} file");
            int version = r.ReadInt32();
            if (version != formatVersion) throw new InvalidDataException($"format version {version}, this build reads {formatVersion}");
            long length = r.ReadInt64();
            byte[] hash = r.ReadBytes(32);
            if (length < 0 || length != stream.Length - stream.Position) throw new InvalidDataException("truncated or extended after it was written");
            if (length > int.MaxValue) throw new InvalidDataException("larger than 2 GB");
            byte[] payload = r.ReadBytes((int)length);
            if (payload.Length != length) throw new InvalidDataException("truncated");
            if (!SHA256.HashData(payload).AsSpan().SequenceEqual(hash)) throw new InvalidDataException("checksum mismatch");

            var blocks = new Dictionary<string, (int, byte[])>(StringComparer.Ordinal);
            using var p = new BinaryReader(new MemoryStream(payload));
            while (p.BaseStream.Position < p.BaseStream.Length)
            {
                string name = p.ReadString();
                int blockVersion = p.ReadInt32();
                long n = p.ReadInt64();
                if (n < 0 || n > p.BaseStream.Length - p.BaseStream.Position) throw new InvalidDataException($"block '{name}' runs past the end");
                if (!blocks.TryAdd(name, (blockVersion, p.ReadBytes((int)n)))) throw new InvalidDataException($"block '{name}' appears twice");
            }
            return new BlockReader(blocks);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("truncated", e);
        }
    }

    public bool Has(string name) => _blocks.ContainsKey(name);

    /// <summary>The version a block was written with, for a reader of several versions.</summary>
    public int VersionOf(string name) => _blocks.TryGetValue(name, out var block) ? block.Version
        : throw new InvalidDataException($"it has no '{name}' block");

    /// <summary>
    /// Reads one block with <paramref name="read"/>, which must consume exactly its payload. A missing block, another
    /// version, a short payload or bytes left over are errors naming the block.
    /// </summary>
    public T Read<T>(string name, int version, Func<BinaryReader, T> read)
    {
        if (!_blocks.TryGetValue(name, out var block)) throw new InvalidDataException($"it has no '{name}' block");
        if (block.Version != version) throw new InvalidDataException($"its '{name}' block is version {block.Version}, this build reads {version}");
        using var r = new BinaryReader(new MemoryStream(block.Payload, writable: false));
        T value;
        try
        {
            value = read(r);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"its '{name}' block is shorter than this run's state", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"its '{name}' block does not fit: {e.Message}", e);
        }
        long left = r.BaseStream.Length - r.BaseStream.Position;
        if (left != 0) throw new InvalidDataException($"its '{name}' block has {left} bytes more than this run's state");
        return value;
    }

    public void Read(string name, int version, Action<BinaryReader> read) =>
        Read(name, version, r => { read(r); return true; });
}
