using System.Security.Cryptography;
using System.Text;

namespace CbpGpu.Agent.Training;

/// <summary>
/// Writes the one binary format every saved state uses (docs/formats.md#checkpointbin): a header (magic, format
/// version, payload length, SHA-256 of the payload), then named blocks, each its name, its own version, its length
/// and its payload. Owners write only their payload; the block carries the framing, so a reader can name what does
/// not fit. Blocks stream straight to the file (no buffer the size of the networks); the header is filled in by
/// <see cref="Finish"/>.
/// </summary>
public sealed class BlockWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly BinaryWriter _writer;
    private readonly long _lengthAt;
    private readonly long _payloadStart;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public BlockWriter(Stream stream, string magic, int formatVersion)
    {
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("block files are written to a seekable, readable stream", nameof(stream));
        _stream = stream;
        _writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        _writer.Write(magic);
        _writer.Write(formatVersion);
        _lengthAt = stream.Position;
        _writer.Write(0L);
        _writer.Write(new byte[32]);
        _payloadStart = stream.Position;
    }

    /// <summary>One block: its payload is whatever <paramref name="payload"/> writes.</summary>
    public void Write(string name, int version, Action<BinaryWriter> payload)
    {
        if (!_names.Add(name)) throw new ArgumentException($"block '{name}' written twice", nameof(name));
        _writer.Write(name);
        _writer.Write(version);
        _writer.Flush();
        long lengthAt = _stream.Position;
        _writer.Write(0L);
        payload(_writer);
        _writer.Flush();
        long end = _stream.Position;
        _stream.Position = lengthAt;
        _writer.Write(end - lengthAt - sizeof(long));
        _writer.Flush();
        _stream.Position = end;
    }

    /// <summary>Fills in the header's length and checksum; the stream is complete afterwards.</summary>
    public void Finish()
    {
        _writer.Flush();
        long length = _stream.Length - _payloadStart;
        _stream.Position = _payloadStart;
        byte[] hash = Sha256(_stream, length);
        _stream.Position = _lengthAt;
        _writer.Write(length);
        _writer.Write(hash);
        _writer.Flush();
        _stream.Position = _stream.Length;
    }

    internal static byte[] Sha256(Stream stream, long length)
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

    public void Dispose() => _writer.Dispose();
}
