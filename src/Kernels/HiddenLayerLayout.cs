using System.Runtime.CompilerServices;

namespace CbpGpu.Kernels;

/// <summary>
/// Where one hidden layer's weights sit in the flat parameter buffer (float offsets).
/// W_in is [Units x FanIn] row-major (torch Linear weight of this layer), bias [Units],
/// W_out is [NextOut x Units] row-major (the next Linear's weight), next bias [NextOut].
/// Blittable, so the ILGPU kernels take it as an argument as it is.
/// </summary>
public readonly record struct HiddenLayerLayout(
    int WeightInOffset,
    int FanIn,
    int BiasOffset,
    int Units,
    int WeightOutOffset,
    int NextOut,
    int NextBiasOffset)
{
    /// <summary>The layout of hidden layer <paramref name="index"/> of an MLP whose Linear layers
    /// are stored back to back as (weight, bias) pairs starting at <paramref name="offset"/>.</summary>
    /// <param name="sizes">Layer widths, input first: e.g. [111, 256, 256, 8].</param>
    public static HiddenLayerLayout[] ForMlp(int offset, params int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length < 3)
            throw new ArgumentException("An MLP with hidden layers needs at least 3 sizes (input, hidden, output).");
        var weightOffsets = new int[sizes.Length - 1];
        var biasOffsets = new int[sizes.Length - 1];
        int at = offset;
        for (int l = 0; l < sizes.Length - 1; l++)
        {
            weightOffsets[l] = at;
            at += sizes[l] * sizes[l + 1];
            biasOffsets[l] = at;
            at += sizes[l + 1];
        }
        var layers = new HiddenLayerLayout[sizes.Length - 2];
        for (int l = 0; l < layers.Length; l++)
            layers[l] = new HiddenLayerLayout(
                weightOffsets[l], sizes[l], biasOffsets[l], sizes[l + 1],
                weightOffsets[l + 1], sizes[l + 2], biasOffsets[l + 1]);
        return layers;
    }

    /// <summary>Number of floats of an MLP with these sizes (weights and biases).</summary>
    public static int MlpParameterCount(params int[] sizes)
    {
        int n = 0;
        for (int l = 0; l < sizes.Length - 1; l++) n += sizes[l] * sizes[l + 1] + sizes[l + 1];
        return n;
    }

    /// <summary>
    /// Validates every layer and places their per-unit CBP state (age, f, u, ...) one after another in a single
    /// buffer: returns each layer's first index there, the total number of units and the widest layer.
    /// </summary>
    public static int[] UnitStateOffsets(ReadOnlySpan<HiddenLayerLayout> layers, long parameterCount, out int totalUnits, out int maxUnits)
    {
        var offsets = new int[layers.Length];
        totalUnits = 0;
        maxUnits = 0;
        for (int l = 0; l < layers.Length; l++)
        {
            layers[l].Validate(parameterCount);
            offsets[l] = totalUnits;
            totalUnits += layers[l].Units;
            maxUnits = Math.Max(maxUnits, layers[l].Units);
        }
        return offsets;
    }

    /// <summary>Flat offset of element <paramref name="j"/> of unit <paramref name="unit"/>'s incoming row; j = FanIn is its bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IncomingOffset(int unit, int j) => j < FanIn ? WeightInOffset + unit * FanIn + j : BiasOffset + unit;

    /// <summary>Flat offset of W_out[k, unit].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int OutgoingOffset(int k, int unit) => WeightOutOffset + k * Units + unit;

    /// <summary>Throws <see cref="ArgumentException"/> if a block is empty or leaves the buffer.</summary>
    public void Validate(long parameterCount)
    {
        if (FanIn <= 0 || Units <= 0 || NextOut <= 0)
            throw new ArgumentException($"Hidden layer {this}: FanIn, Units and NextOut must be > 0.");
        Check("W_in", WeightInOffset, (long)Units * FanIn, parameterCount);
        Check("bias", BiasOffset, Units, parameterCount);
        Check("W_out", WeightOutOffset, (long)NextOut * Units, parameterCount);
        Check("next bias", NextBiasOffset, NextOut, parameterCount);
    }

    private void Check(string what, long offset, long length, long parameterCount)
    {
        if (offset < 0 || offset + length > parameterCount)
            throw new ArgumentException(
                $"Hidden layer {this}: {what} [{offset}, {offset + length}) lies outside the {parameterCount} parameters.");
    }
}
