namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The state payload of aged Adam, shared by the fused and the naive implementation: the element count of the
/// flat parameters, then m, v (float32) and t (int32) of every element.
/// </summary>
internal static class AgedAdamState
{
    public static void Write(BinaryWriter writer, ReadOnlySpan<float> m, ReadOnlySpan<float> v, ReadOnlySpan<int> t)
    {
        writer.Write(m.Length);
        StatePayload.Write(writer, m);
        StatePayload.Write(writer, v);
        StatePayload.Write(writer, t);
    }

    /// <summary>Reads a state of exactly <paramref name="length"/> elements; throws <see cref="InvalidDataException"/> otherwise.</summary>
    public static (float[] M, float[] V, int[] T) Read(BinaryReader reader, int length)
    {
        try
        {
            int n = reader.ReadInt32();
            if (n != length)
                throw new InvalidDataException($"aged-Adam state of {n} parameters does not fit these networks' {length}");
            var m = new float[n];
            var v = new float[n];
            var t = new int[n];
            StatePayload.Read<float>(reader, m);
            StatePayload.Read<float>(reader, v);
            StatePayload.Read<int>(reader, t);
            StatePayload.EnsureEnd(reader, "the aged-Adam state");
            return (m, v, t);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("aged-Adam state is truncated", e);
        }
    }
}
