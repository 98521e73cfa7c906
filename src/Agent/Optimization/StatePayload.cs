using System.Runtime.InteropServices;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Reading the optimizer and CBP state payloads: arrays in bulk, and a payload must end exactly where its
/// last field does (the checkpoint hands each state its own block, so a surplus means another format).
/// </summary>
internal static class StatePayload
{
    public static void Write<T>(BinaryWriter writer, ReadOnlySpan<T> values) where T : unmanaged =>
        writer.Write(MemoryMarshal.AsBytes(values));

    /// <summary>Fills <paramref name="destination"/>; throws <see cref="EndOfStreamException"/> if the payload ends first.</summary>
    public static void Read<T>(BinaryReader reader, Span<T> destination) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(destination);
        while (bytes.Length > 0)
        {
            int read = reader.Read(bytes);
            if (read == 0) throw new EndOfStreamException();
            bytes = bytes[read..];
        }
    }

    /// <summary>Throws <see cref="InvalidDataException"/> when bytes follow the payload (only checkable on a seekable stream).</summary>
    public static void EnsureEnd(BinaryReader reader, string what)
    {
        var stream = reader.BaseStream;
        if (stream.CanSeek && stream.Position != stream.Length)
            throw new InvalidDataException($"{what} is followed by {stream.Length - stream.Position} more bytes; it was saved in another format");
    }
}
