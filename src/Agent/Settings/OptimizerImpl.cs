namespace CbpGpu.Agent.Settings;

/// <summary>
/// Which code runs Adam (and CBP): the same math, different speed. Aged Adam with all step counters equal is
/// ordinary Adam, so every method may use any of them, except that only the aged ones can reset per-weight state.
/// </summary>
public enum OptimizerImpl
{
    /// <summary>Aged Adam and CBP as a few fused passes over the flat parameters (src/Kernels CPU loops).</summary>
    Fused,

    /// <summary>Aged Adam and CBP as ordinary TorchSharp ops per tensor: the reference.</summary>
    Naive,

    /// <summary>TorchSharp's own torch.optim.Adam (one step counter); CBP, if any, on the fused CPU loops.</summary>
    Torch,
}
