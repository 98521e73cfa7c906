using System.Buffers.Binary;
using System.Text;

namespace CbpGpu.Agent.Training;

/// <summary>
/// The run's scalars as a TensorBoard event file (docs/formats.md#tensorboard): every updates.csv column but `update`
/// and `step` as `updates/(column)`, and each episode's return as `episodes/return`, at its env step. One file per
/// session, `events.out.tfevents.(session number).(unix time).(host).(pid)`. A resumed session first writes a
/// SessionLog START just past the checkpoint's step, which tells TensorBoard to drop what earlier sessions logged
/// after the checkpoint (the rows a resume cuts from the CSVs), so the curves show each step once.
///
/// Written by hand rather than with TorchSharp's SummaryWriter so the records are exactly these: TFRecord framing
/// (uint64 length, masked CRC32C of the length, the bytes, masked CRC32C of the bytes) around Event protobufs
/// (tensorflow/core/util/event.proto: wall_time 1, step 2, file_version 3, summary 5, session_log 6; Summary.Value:
/// tag 1, simple_value 2).
/// </summary>
public sealed class TensorBoardLog : IDisposable
{
    public const string FilePrefix = "events.out.tfevents.";
    private readonly FileStream _file;
    private readonly MemoryStream _event = new();

    private TensorBoardLog(string path, FileStream file)
    {
        Path = path;
        _file = file;
    }

    public string Path { get; }

    /// <summary>Starts this session's event file; <paramref name="resumedAt"/> is the checkpoint's step when resuming.</summary>
    public static TensorBoardLog Create(string directory, long? resumedAt)
    {
        // TensorBoard reads a directory's event files in name order: the session number first keeps them in session order.
        int session = Directory.GetFiles(directory, FilePrefix + "*").Length;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string path = System.IO.Path.Combine(directory, $"{FilePrefix}{session:D4}.{now}.{Environment.MachineName}.{Environment.ProcessId}");
        var log = RunDirectory.Guard(path, "create", () => new TensorBoardLog(path, new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16)));
        log.WriteEvent(0, w => WriteBytes(w, 3, Encoding.UTF8.GetBytes("brain.Event:2")));
        // TensorBoard drops earlier events at or above a START's step, so START goes one past
        // the checkpoint: rows up to the checkpoint stay (the CSVs keep them), later ones (cut from the CSVs) go.
        if (resumedAt is long step)
            log.WriteEvent(step + 1, w => WriteMessage(w, 6, s => WriteVarint(s, 1, 1)));   // SessionLog { status: START }
        return log;
    }

    public void Scalar(long step, string tag, double value) => Scalars(step, [(tag, value)]);

    public void Scalars(long step, IEnumerable<(string Tag, double Value)> values) =>
        WriteEvent(step, w => WriteMessage(w, 5, summary =>
        {
            foreach (var (tag, value) in values)
                WriteMessage(summary, 1, v =>
                {
                    WriteBytes(v, 1, Encoding.UTF8.GetBytes(tag));
                    v.WriteByte((2 << 3) | 5);   // simple_value: fixed32 float
                    Span<byte> f = stackalloc byte[4];
                    BinaryPrimitives.WriteSingleLittleEndian(f, (float)value);
                    v.Write(f);
                });
        }));

    public void Flush() => RunDirectory.Guard(Path, "write", () => _file.Flush());

    private void WriteEvent(long step, Action<MemoryStream> body)
    {
        _event.SetLength(0);
        _event.WriteByte((1 << 3) | 1);   // wall_time: fixed64 double
        Span<byte> d = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(d, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        _event.Write(d);
        WriteVarint(_event, 2, (ulong)step);
        body(_event);
        var data = _event.GetBuffer().AsSpan(0, (int)_event.Length);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc(data));
        byte[] record = [.. header, .. data, .. footer];
        RunDirectory.Guard(Path, "write", () => _file.Write(record));
    }

    private static void WriteMessage(MemoryStream to, int field, Action<MemoryStream> body)
    {
        // A nested message is built in its own buffer first: its length precedes it.
        var scratch = new MemoryStream();
        body(scratch);
        WriteBytes(to, field, scratch.GetBuffer().AsSpan(0, (int)scratch.Length));
    }

    private static void WriteBytes(Stream to, int field, ReadOnlySpan<byte> bytes)
    {
        WriteRawVarint(to, (ulong)((field << 3) | 2));
        WriteRawVarint(to, (ulong)bytes.Length);
        to.Write(bytes);
    }

    private static void WriteVarint(Stream to, int field, ulong value)
    {
        WriteRawVarint(to, (ulong)(field << 3));
        WriteRawVarint(to, value);
    }

    private static void WriteRawVarint(Stream to, ulong value)
    {
        while (value >= 0x80)
        {
            to.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        to.WriteByte((byte)value);
    }

    /// <summary>TFRecord's checksum: CRC32C rotated right by 15 bits plus a constant.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;   // Castagnoli, reflected
            table[i] = c;
        }
        return table;
    }

    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    public void Dispose() => _file.Dispose();
}
