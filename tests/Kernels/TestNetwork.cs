using CbpGpu.Kernels;

namespace CbpGpu.Tests.Kernels;

/// <summary>
/// Two MLPs (policy input-h1-h2-actions, value input-h1-h2-1) plus a log-std vector stored back
/// to back in one flat buffer, as the Agent keeps them, with one flat gradient buffer.
/// Values are multiples of small powers of two so float sums over them are exact, which lets the
/// float64 checks attribute every difference to the few roundings in the per-element math.
/// </summary>
internal sealed class TestNetwork : IDisposable
{
    public TestNetwork(int input, int hidden1, int hidden2, int actions, int seed)
    {
        PolicySizes = [input, hidden1, hidden2, actions];
        ValueSizes = [input, hidden1, hidden2, 1];
        int policy = HiddenLayerLayout.MlpParameterCount(PolicySizes);
        int value = HiddenLayerLayout.MlpParameterCount(ValueSizes);
        Length = policy + value + actions;
        Layers = [.. HiddenLayerLayout.ForMlp(0, PolicySizes), .. HiddenLayerLayout.ForMlp(policy, ValueSizes)];
        Parameters = new NativeBuffer<float>(Length);
        Gradients = new NativeBuffer<float>(Length);
        var random = new Random(seed);
        InitialiseLinears(0, PolicySizes, random);
        InitialiseLinears(policy, ValueSizes, random);
        FillGradients(random);
    }

    public int[] PolicySizes { get; }

    public int[] ValueSizes { get; }

    public int Length { get; }

    public HiddenLayerLayout[] Layers { get; }

    public NativeBuffer<float> Parameters { get; }

    public NativeBuffer<float> Gradients { get; }

    /// <summary>Gradients in [-1, 1) on a 2^-12 grid, some exactly zero.</summary>
    public void FillGradients(Random random)
    {
        var g = Gradients.Span;
        for (int i = 0; i < g.Length; i++) g[i] = random.Next(8) == 0 ? 0f : Grid(random, 1f, 12);
    }

    /// <summary>
    /// Post-ReLU-like activations [batch x units]: non-negative on a 2^-6 grid below 4, with every
    /// fifth unit dead (always 0) so that exact utility ties occur.
    /// </summary>
    /// <summary>Activations on the pinned object heap, so <see cref="View"/> can hand their address to the kernels.</summary>
    public static float[] Activations(int units, int batch, Random random)
    {
        var h = Pinned(batch * units);
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < units; i++)
                h[b * units + i] = i % 5 == 4 || random.Next(3) == 0 ? 0f : random.Next(1, 256) / 64f;
        return h;
    }

    /// <summary>A zeroed array the GC never moves (the pinned object heap).</summary>
    public static float[] Pinned(int length) => GC.AllocateArray<float>(length, pinned: true);

    /// <summary>The host address of an array from <see cref="Pinned"/> or <see cref="Activations"/>, as the kernels take activations.</summary>
    public static NativeView<float> View(float[] pinned) => NativeView<float>.OfFixed(pinned);

    public float[] CopyParameters() => Parameters.Span.ToArray();

    public void Dispose()
    {
        Parameters.Dispose();
        Gradients.Dispose();
    }

    private void InitialiseLinears(int offset, int[] sizes, Random random)
    {
        var p = Parameters.Span;
        int at = offset;
        for (int l = 0; l < sizes.Length - 1; l++)
        {
            float bound = CbpMath.InitialBound(sizes[l]);
            for (int k = 0; k < sizes[l] * sizes[l + 1]; k++) p[at++] = Grid(random, bound, 12);
            for (int k = 0; k < sizes[l + 1]; k++) p[at++] = Grid(random, 0.1f, 12);
        }
    }

    // Uniform in [-bound, bound) rounded to multiples of 2^-bits.
    private static float Grid(Random random, float bound, int bits)
    {
        float scale = 1 << bits;
        return MathF.Round((float)(random.NextDouble() * 2 - 1) * bound * scale) / scale;
    }
}
