using System.Runtime.InteropServices;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The checkpoint format of Continual Backprop, shared by <see cref="FusedCbp"/> and <see cref="NaiveCbp"/>:
/// a header, the chooser's random state, then per hidden layer its unit count, the accumulated fractional
/// replacements, and age, f, u of every unit.
/// </summary>
internal static class CbpState
{
    private const string Magic = "cbpgpu.cbp";
    private const int Version = 1;

    /// <summary>One layer's persistent unit state.</summary>
    public sealed record Layer(double Accumulated, int[] Age, float[] F, float[] U);

    public static void Write(BinaryWriter writer, ulong random, IReadOnlyList<Layer> layers)
    {
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(random);
        writer.Write(layers.Count);
        foreach (var layer in layers)
        {
            writer.Write(layer.Age.Length);
            writer.Write(layer.Accumulated);
            writer.Write(MemoryMarshal.AsBytes(layer.Age.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(layer.F.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(layer.U.AsSpan()));
        }
    }

    /// <summary>Reads a whole state for layers of these unit counts before anything is applied, so a bad one changes nothing.</summary>
    public static (ulong Random, Layer[] Layers) Read(BinaryReader reader, IReadOnlyList<int> units)
    {
        try
        {
            if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
                throw new InvalidDataException("not a CBP state (wrong header)");
            ulong random = reader.ReadUInt64();
            int count = reader.ReadInt32();
            if (count != units.Count)
                throw new InvalidDataException($"CBP state of {count} hidden layers does not fit these networks' {units.Count}");
            var layers = new Layer[count];
            for (int l = 0; l < count; l++)
            {
                int n = reader.ReadInt32();
                if (n != units[l])
                    throw new InvalidDataException($"CBP state of hidden layer {l} has {n} units, the network {units[l]}");
                var layer = new Layer(reader.ReadDouble(), new int[n], new float[n], new float[n]);
                ReadExactly(reader, MemoryMarshal.AsBytes(layer.Age.AsSpan()));
                ReadExactly(reader, MemoryMarshal.AsBytes(layer.F.AsSpan()));
                ReadExactly(reader, MemoryMarshal.AsBytes(layer.U.AsSpan()));
                layers[l] = layer;
            }
            return (random, layers);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("CBP state is truncated", e);
        }
    }

    /// <summary>Restores what <see cref="Read"/> returned into a chooser (random state, fractions).</summary>
    public static void Apply(ReplacementChooser chooser, ulong random, IReadOnlyList<Layer> layers)
    {
        for (int l = 0; l < layers.Count; l++) chooser.Accumulated[l] = layers[l].Accumulated;
        chooser.Random.State = random;
    }

    private static void ReadExactly(BinaryReader reader, Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            int read = reader.Read(destination);
            if (read == 0) throw new EndOfStreamException();
            destination = destination[read..];
        }
    }
}
