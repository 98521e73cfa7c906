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
    /// fifth unit dead (always 0) so that exact utility ties occur. In unmanaged memory the caller owns and
    /// disposes (<c>using var</c>), so the kernels may read its <see cref="NativeBuffer{T}.View"/> for as long as the
    /// caller holds it. (A pinned array's address is not enough: the GC never moves the array, but frees it as soon
    /// as nothing references it, which in optimized code can be before a kernel that holds only its address has
    /// read it.)
    /// </summary>
    public static NativeBuffer<float> Activations(int units, int batch, Random random)
    {
        var h = new NativeBuffer<float>(batch * units);
        FillActivations(h.Span, units, batch, random);
        return h;
    }

    /// <summary>The values <see cref="Activations"/> draws, in a managed array (for <c>torch.tensor</c>, which copies them).</summary>
    public static float[] ActivationValues(int units, int batch, Random random)
    {
        var h = new float[batch * units];
        FillActivations(h, units, batch, random);
        return h;
    }

    private static void FillActivations(Span<float> h, int units, int batch, Random random)
    {
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < units; i++)
                h[b * units + i] = i % 5 == 4 || random.Next(3) == 0 ? 0f : random.Next(1, 256) / 64f;
    }

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
