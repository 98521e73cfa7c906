using System.Collections;

namespace CbpGpu.Agent.Training;

/// <summary>
/// The columns of one CSV log, each declared once with the value it holds, so the header and the rows cannot drift
/// apart. Integers are written as integers and reals round-trippable ("R"), as <see cref="CsvLog"/> formats them.
/// </summary>
public sealed class CsvColumns<T> : IEnumerable<string>
{
    private readonly List<(string Name, Action<CsvLog, T> Write, Func<T, double> Value)> _columns = [];

    public void Add(string name, Func<T, long> value) => _columns.Add((name, (log, row) => log.Field(value(row)), row => value(row)));

    public void Add(string name, Func<T, double> value) => _columns.Add((name, (log, row) => log.Field(value(row)), value));

    /// <summary>Each column's name and value for <paramref name="row"/> (as a double), e.g. for TensorBoard.</summary>
    public IEnumerable<(string Name, double Value)> Values(T row) => _columns.Select(c => (c.Name, c.Value(row)));

    public string Header => string.Join(',', _columns.Select(c => c.Name));

    public void WriteRow(CsvLog log, T row)
    {
        foreach (var c in _columns) c.Write(log, row);
        log.EndRow();
    }

    public IEnumerator<string> GetEnumerator() => _columns.Select(c => c.Name).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
