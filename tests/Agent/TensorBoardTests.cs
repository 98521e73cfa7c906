using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using CbpGpu.Agent.Training;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// The TensorBoard event files of a real tiny run, read back record by record: framing and CRCs, one scalar per
/// updates.csv value and per episode, and a resumed session's SessionLog START at the checkpoint's step.
/// </summary>
public sealed class TensorBoardTests : IDisposable
{
    private readonly string _root = NewRoot("tensorboard");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private sealed record Event(long Step, string? FileVersion, int? SessionStatus, List<(string Tag, float Value)> Scalars);

    [Fact]
    public void Crc32cMatchesItsPublishedCheckValue() =>
        Assert.Equal(0xE3069283u, TensorBoardLog.Crc32C(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void EveryUpdateValueAndEpisodeReturnIsAScalarAndAResumeMarksItsStep()
    {
        string dir = Path.Combine(_root, "run");
        Train(dir, Config(2 * 2048, checkpointEvery: 1));
        Train(dir, Config(3 * 2048, checkpointEvery: 1), resume: true);

        string[] files = [.. Directory.GetFiles(dir, TensorBoardLog.FilePrefix + "*").Order(StringComparer.Ordinal)];
        Assert.Equal(2, files.Length);
        var first = ReadEvents(files[0]);
        var second = ReadEvents(files[1]);
        Assert.Equal("brain.Event:2", first[0].FileVersion);
        Assert.Equal("brain.Event:2", second[0].FileVersion);
        Assert.Equal((4097L, 1), (second[1].Step, second[1].SessionStatus!.Value));   // SessionLog START just past the checkpoint

        var all = first.Concat(second).ToList();
        string[] updates = File.ReadAllLines(Path.Combine(dir, RunDirectory.UpdatesFile));
        string[] header = updates[0].Split(',');
        foreach (string row in updates.Skip(1))
        {
            string[] f = row.Split(',');
            long step = long.Parse(f[1], CultureInfo.InvariantCulture);
            var scalars = all.Where(e => e.Step == step && e.Scalars.Any(s => s.Tag.StartsWith("updates/", StringComparison.Ordinal))).SelectMany(e => e.Scalars).ToList();
            Assert.Equal(header.Skip(2).Select(h => "updates/" + h), scalars.Select(s => s.Tag));
            for (int c = 2; c < header.Length; c++)
                Assert.Equal((float)double.Parse(f[c], CultureInfo.InvariantCulture), scalars[c - 2].Value);
        }
        string[] episodes = [.. File.ReadAllLines(Path.Combine(dir, RunDirectory.EpisodesFile)).Skip(1)];
        var returns = all.SelectMany(e => e.Scalars.Where(s => s.Tag == "episodes/return").Select(s => (e.Step, s.Value))).ToList();
        Assert.Equal(episodes.Select(l => (long.Parse(l.Split(',')[0], CultureInfo.InvariantCulture), (float)double.Parse(l.Split(',')[2], CultureInfo.InvariantCulture))), returns);
    }

    /// <summary>TFRecords: uint64 length, masked CRC32C of those 8 bytes, the Event, masked CRC32C of the Event; both CRCs checked.</summary>
    private static List<Event> ReadEvents(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        int at = 0;
        while (at < bytes.Length)
        {
            var header = bytes.AsSpan(at, 8);
            Assert.Equal(TensorBoardLog.MaskedCrc(header), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
            int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(header));
            var data = bytes.AsSpan(at + 12, length);
            Assert.Equal(TensorBoardLog.MaskedCrc(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + length)));
            events.Add(ParseEvent(data.ToArray()));
            at += 12 + length + 4;
        }
        return events;
    }

    private static Event ParseEvent(byte[] data)
    {
        long step = 0;
        string? version = null;
        int? status = null;
        var scalars = new List<(string, float)>();
        foreach (var (field, wire, value, bytes) in Fields(data))
        {
            if (field == 2 && wire == 0) step = (long)value;
            else if (field == 3 && wire == 2) version = Encoding.UTF8.GetString(bytes);
            else if (field == 6 && wire == 2) status = (int)Fields(bytes).Single(f => f.Field == 1).Value;
            else if (field == 5 && wire == 2)
                foreach (var v in Fields(bytes).Where(f => f.Field == 1))
                {
                    var parts = Fields(v.Bytes).ToList();
                    string tag = Encoding.UTF8.GetString(parts.Single(p => p.Field == 1).Bytes);
                    float simple = BinaryPrimitives.ReadSingleLittleEndian(parts.Single(p => p.Field == 2 && p.Wire == 5).Bytes);
                    scalars.Add((tag, simple));
                }
        }
        return new Event(step, version, status, scalars);
    }

    /// <summary>A protobuf message's fields: number, wire type, varint value, or the bytes of a fixed or length-delimited field.</summary>
    private static IEnumerable<(int Field, int Wire, ulong Value, byte[] Bytes)> Fields(byte[] message)
    {
        int at = 0;
        ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = message[at++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
        }
        var fields = new List<(int, int, ulong, byte[])>();
        while (at < message.Length)
        {
            ulong key = Varint();
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: fields.Add((field, wire, Varint(), [])); break;
                case 1: fields.Add((field, wire, 0, message[at..(at + 8)])); at += 8; break;
                case 5: fields.Add((field, wire, 0, message[at..(at + 4)])); at += 4; break;
                case 2:
                    int n = (int)Varint();
                    fields.Add((field, wire, 0, message[at..(at + n)]));
                    at += n;
                    break;
                default: throw new InvalidDataException($"wire type {wire}");
            }
        }
        return fields;
    }
}
