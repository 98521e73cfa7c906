namespace CbpGpu.Kernels;

/// <summary>
/// Adam with one step counter per element (docs/aged-adam.md#update) over one flat parameter buffer and one flat
/// gradient buffer, one fused pass per <see cref="Step"/>.
/// </summary>
public interface IAgedAdam : IDisposable
{
    /// <summary>Number of parameters.</summary>
    int Length { get; }

    /// <summary>One optimizer step over all parameters; the parameters are updated when it returns.</summary>
    void Step();

    /// <summary>Copies the first moments, second moments and step counters out (for checkpoints and tests).</summary>
    void ReadState(Span<float> m, Span<float> v, Span<int> t);

    /// <summary>Replaces the optimizer state (loading a checkpoint).</summary>
    void WriteState(ReadOnlySpan<float> m, ReadOnlySpan<float> v, ReadOnlySpan<int> t);
}
