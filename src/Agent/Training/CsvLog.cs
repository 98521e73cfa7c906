using System.Globalization;
using System.Text;

namespace CbpGpu.Agent.Training;

/// <summary>
/// An append-only CSV file. Rows are buffered and reach the OS on <see cref="Flush"/>, which the trainer calls
/// after every update, so a killed run loses at most the rows of one update.
/// </summary>
public sealed class CsvLog : IDisposable
{
    private readonly FileStream _file;
    private readonly StreamWriter _writer;
    private readonly StringBuilder _row = new();
    private int _fields;

    /// <summary>Creates the file with its header, or (resume) reopens it cut back to <paramref name="resumeLength"/> bytes.</summary>
    public CsvLog(string path, string header, long? resumeLength)
    {
        Path = path;
        if (resumeLength is long length)
        {
            _file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            if (_file.Length < length)
                throw new InvalidDataException($"{path} has {_file.Length} bytes, less than the {length} the checkpoint recorded");
            _file.SetLength(length);
            _file.Seek(0, SeekOrigin.End);
            _writer = new StreamWriter(_file, new UTF8Encoding(false), 1 << 16);
        }
        else
        {
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            _writer = new StreamWriter(_file, new UTF8Encoding(false), 1 << 16);
            _writer.Write(header);
            _writer.Write('\n');
        }
    }

    public string Path { get; }

    /// <summary>Bytes written so far (what a checkpoint records to cut the file back on resume).</summary>
    public long Length
    {
        get
        {
            _writer.Flush();
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

    public void Flush()
    {
        _writer.Flush();
        _file.Flush(flushToDisk: false);
    }

    public void Dispose()
    {
        Flush();
        _writer.Dispose();
    }
}
