using System.Globalization;
using System.Text;

namespace CbpGpu.Agent.Training;

/// <summary>
/// An append-only CSV file. Rows are buffered and reach the OS on <see cref="Flush"/>, which the trainer calls after
/// every update, so a killed run loses at most the rows of one update (and a resume cuts the file back to the length
/// its checkpoint recorded). Write failures are <see cref="TrainingException"/>s naming the file.
/// </summary>
public sealed class CsvLog : IDisposable
{
    private readonly FileStream _file;
    private readonly StreamWriter _writer;
    private readonly StringBuilder _row = new();
    private int _fields;

    private CsvLog(string path, FileStream file)
    {
        Path = path;
        _file = file;
        _writer = new StreamWriter(_file, new UTF8Encoding(false), 1 << 16);
    }

    /// <summary>Creates the file with its header (replacing a header-only file left by a start that never checkpointed).</summary>
    public static CsvLog Create(string path, string header) => RunDirectory.Guard(path, "create", () =>
    {
        var log = new CsvLog(path, new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));
        log._writer.Write(header);
        log._writer.Write('\n');
        log.Flush();
        return log;
    });

    /// <summary>Reopens the file cut back to <paramref name="length"/> bytes (what the checkpoint recorded).</summary>
    public static CsvLog Reopen(string path, long length) => RunDirectory.Guard(path, "reopen", () =>
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        file.SetLength(length);
        file.Seek(0, SeekOrigin.End);
        return new CsvLog(path, file);
    });

    public string Path { get; }

    /// <summary>Bytes written so far (what a checkpoint records to cut the file back on resume).</summary>
    public long Length
    {
        get
        {
            Flush();
            return _file.Length;
        }
    }

    public CsvLog Field(long v) => Raw(v.ToString(CultureInfo.InvariantCulture));
    public CsvLog Field(double v) => Raw(v.ToString("R", CultureInfo.InvariantCulture));

    private CsvLog Raw(string s)
    {
        if (_fields++ > 0) _row.Append(',');
        _row.Append(s);
        return this;
    }

    public void EndRow()
    {
        _row.Append('\n');
        _writer.Write(_row);
        _row.Clear();
        _fields = 0;
    }

    public void Flush() => RunDirectory.Guard(Path, "write", () =>
    {
        _writer.Flush();
        _file.Flush(flushToDisk: false);
    });

    /// <summary>Closes the file without throwing: the trainer flushes (and reports failures) before it disposes.</summary>
    public void Dispose()
    {
        try
        {
            _writer.Dispose();
        }
        catch (IOException)
        {
            try { _file.Dispose(); } catch (IOException) { }
        }
    }
}
