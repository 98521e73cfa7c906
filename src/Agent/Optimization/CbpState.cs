using CbpGpu.Kernels;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The state payload of Continual Backprop, shared by the fused and the naive implementation: the chooser's
/// random state, the number of hidden layers, then per layer its unit count, the accumulated fractional
/// replacements, and age, f, u of every unit.
/// </summary>
internal static class CbpState
{
    /// <summary>One layer's persistent unit state.</summary>
    public sealed record Layer(double Accumulated, int[] Age, float[] F, float[] U);

    public static void Write(BinaryWriter writer, ulong random, IReadOnlyList<Layer> layers)
    {
        writer.Write(random);
        writer.Write(layers.Count);
        foreach (var layer in layers)
        {
            writer.Write(layer.Age.Length);
            writer.Write(layer.Accumulated);
            StatePayload.Write<int>(writer, layer.Age);
            StatePayload.Write<float>(writer, layer.F);
            StatePayload.Write<float>(writer, layer.U);
        }
    }

    /// <summary>Reads a whole state for these layers before anything is applied, so a bad one changes nothing.</summary>
    public static (ulong Random, Layer[] Layers) Read(BinaryReader reader, IReadOnlyList<HiddenLayerLayout> expected)
    {
        try
        {
            ulong random = reader.ReadUInt64();
            int count = reader.ReadInt32();
            if (count != expected.Count)
                throw new InvalidDataException($"CBP state of {count} hidden layers does not fit these networks' {expected.Count}");
            var layers = new Layer[count];
            for (int l = 0; l < count; l++)
            {
                int n = reader.ReadInt32();
                if (n != expected[l].Units)
                    throw new InvalidDataException($"CBP state of hidden layer {l} has {n} units, the network {expected[l].Units}");
                var layer = new Layer(reader.ReadDouble(), new int[n], new float[n], new float[n]);
                StatePayload.Read<int>(reader, layer.Age);
                StatePayload.Read<float>(reader, layer.F);
                StatePayload.Read<float>(reader, layer.U);
                layers[l] = layer;
            }
            StatePayload.EnsureEnd(reader, "the CBP state");
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
}
