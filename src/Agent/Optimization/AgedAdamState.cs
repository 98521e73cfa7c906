namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The checkpoint format of aged Adam, shared by <see cref="FusedAgedAdam"/> and <see cref="NaiveAgedAdam"/>:
/// a header, the element count, then m, v (float32) and t (int32) of every element.
/// </summary>
internal static class AgedAdamState
{
    private const string Magic = "cbpgpu.aged-adam";
    private const int Version = 1;

    public static void Write(BinaryWriter writer, ReadOnlySpan<float> m, ReadOnlySpan<float> v, ReadOnlySpan<int> t)
    {
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(m.Length);
        foreach (float x in m) writer.Write(x);
        foreach (float x in v) writer.Write(x);
        foreach (int x in t) writer.Write(x);
    }

    /// <summary>Reads a state of exactly <paramref name="length"/> elements; throws <see cref="InvalidDataException"/> otherwise.</summary>
    public static (float[] M, float[] V, int[] T) Read(BinaryReader reader, int length)
    {
        try
        {
            if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
                throw new InvalidDataException("not an aged-Adam state (wrong header); it was saved by another optimizer");
            int n = reader.ReadInt32();
            if (n != length)
                throw new InvalidDataException($"aged-Adam state of {n} parameters does not fit these networks' {length}");
            var m = new float[n];
            var v = new float[n];
            var t = new int[n];
            for (int i = 0; i < n; i++) m[i] = reader.ReadSingle();
            for (int i = 0; i < n; i++) v[i] = reader.ReadSingle();
            for (int i = 0; i < n; i++) t[i] = reader.ReadInt32();
            return (m, v, t);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("aged-Adam state is truncated", e);
        }
    }
}
