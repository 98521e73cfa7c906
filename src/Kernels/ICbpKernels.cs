namespace CbpGpu.Kernels;

/// <summary>
/// The data-parallel parts of Continual Backprop over a flat parameter buffer: per-unit running
/// statistics and the replacement of chosen units. The choice itself is
/// <see cref="ReplacementChooser"/>'s; <see cref="ContinualBackprop"/> drives both.
/// Unit state per layer: age (int), f (running mean activation), u (running utility), and the
/// bias-corrected fhat and uhat of the latest statistics update.
/// </summary>
public interface ICbpKernels : IDisposable
{
    IReadOnlyList<HiddenLayerLayout> Layers { get; }

    CbpSettings Settings { get; }

    /// <summary>
    /// age += 1, f, u, fhat, uhat of every unit of the layer from this minibatch's post-activation
    /// outputs [batchSize x Units] (row-major) and the current weights. The activations are read in place
    /// where the backend's kernels run (host memory for the CPU loops and ILGPU's CPU accelerator, device
    /// memory on CUDA: src/Kernels/MEMORY.md), only during this call.
    /// </summary>
    void UpdateStatistics(int layer, NativeView<float> activations, int batchSize);

    /// <summary>
    /// Replaces the given distinct units: W_in[i,:] ~ U(-b,b) from noiseKeys[r], optionally bias_i = 0,
    /// optionally next_bias += W_out[:,i] * fhat_i, W_out[:,i] = 0, age = f = u = 0, and the Adam states the settings
    /// name (m and v, t, or both) of W_in[i,:], W_out[:,i] and (when it is reset) bias_i zeroed.
    /// </summary>
    void Replace(int layer, ReadOnlySpan<int> units, ReadOnlySpan<ulong> noiseKeys);

    /// <summary>uhat of the layer's units from the latest statistics update.</summary>
    void ReadUtilities(int layer, Span<float> destination);

    /// <summary>Unit ages of the layer.</summary>
    void ReadAges(int layer, Span<int> destination);

    /// <summary>Copies the persistent unit state (age, f, u) out, for checkpoints and tests.</summary>
    void ReadUnitState(int layer, Span<int> age, Span<float> f, Span<float> u);

    /// <summary>Replaces the persistent unit state (loading a checkpoint).</summary>
    void WriteUnitState(int layer, ReadOnlySpan<int> age, ReadOnlySpan<float> f, ReadOnlySpan<float> u);
}
