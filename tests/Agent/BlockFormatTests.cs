using CbpGpu.Agent.Training;
using Xunit;

namespace CbpGpu.Tests.Agent;

/// <summary>The one binary format of every checkpointed state: framing, checksums and what a reader refuses.</summary>
public sealed class BlockFormatTests
{
    private static byte[] Write(Action<BlockWriter> blocks)
    {
        var stream = new MemoryStream();
        using (var w = new BlockWriter(stream, "test", 3))
        {
            blocks(w);
            w.Finish();
        }
        return stream.ToArray();
    }

    private static BlockReader Read(byte[] bytes) => BlockReader.Read(new MemoryStream(bytes), "test", 3);

    [Fact]
    public void BlocksRoundTripByNameWithTheirVersions()
    {
        byte[] file = Write(w =>
        {
            w.Write("a", 1, x => x.Write(42));
            w.Write("b", 7, x => x.Write("hello"));
        });
        var r = Read(file);
        Assert.Equal("hello", r.Read("b", 7, x => x.ReadString()));
        Assert.Equal(42, r.Read("a", 1, x => x.ReadInt32()));
        // Layout: magic "test" (1 + 4 bytes), version, payload length, SHA-256, then per block name, version, length, payload.
        Assert.Equal(5 + 4 + 8 + 32 + (2 + 4 + 8 + 4) + (2 + 4 + 8 + 6), file.Length);
        Assert.Equal(file.Length - 49, BitConverter.ToInt64(file, 9));
    }

    [Fact]
    public void AReaderNamesWhatDoesNotFit()
    {
        byte[] file = Write(w => w.Write("state", 2, x => { x.Write(1); x.Write(2); }));
        var r = Read(file);
        Assert.Contains("version 2, this build reads 1", Assert.Throws<InvalidDataException>(() => r.Read("state", 1, x => x.ReadInt32())).Message);
        Assert.Contains("4 bytes more", Assert.Throws<InvalidDataException>(() => r.Read("state", 2, x => x.ReadInt32())).Message);
        Assert.Contains("shorter", Assert.Throws<InvalidDataException>(() => r.Read("state", 2, x => x.ReadInt64() + x.ReadInt32())).Message);
        Assert.Contains("no 'other' block", Assert.Throws<InvalidDataException>(() => r.Read("other", 1, x => 0)).Message);

        byte[] flipped = (byte[])file.Clone();
        flipped[^1] ^= 1;
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => Read(flipped)).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Read(file[..^1])).Message);
        Assert.Contains("not a other file", Assert.Throws<InvalidDataException>(() => BlockReader.Read(new MemoryStream(file), "other", 3)).Message);
        Assert.Contains("format version 3", Assert.Throws<InvalidDataException>(() => BlockReader.Read(new MemoryStream(file), "test", 4)).Message);
        Assert.Throws<ArgumentException>(() => Write(w => { w.Write("x", 1, _ => { }); w.Write("x", 1, _ => { }); }));
    }
}
