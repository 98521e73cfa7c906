namespace CbpGpu.Kernels;

/// <summary>
/// Where the fused aged Adam and CBP kernels run over one flat parameter buffer and its flat
/// gradient, memory the caller owns and keeps alive: the CPU loops over host memory
/// (<see cref="CpuKernelBackend"/>) or ILGPU kernels over the accelerator's own addresses
/// (<see cref="CudaKernelBackend"/>: libtorch's device memory on CUDA, host memory on ILGPU's CPU
/// accelerator). A run takes its device's default <see cref="KernelBackendKind"/>. The optimizer
/// and the CBP kernels come from one call because CBP may reset the optimizer's per-weight state,
/// which only the backend that allocated it can reach.
/// </summary>
public interface IKernelBackend : IDisposable
{
    /// <summary>The device in words, for reports.</summary>
    string Device { get; }

    /// <summary>
    /// Aged Adam over the parameters and gradients and, when <paramref name="cbp"/> is given, CBP
    /// kernels over the same parameters that zero this optimizer's state of replaced weights when
    /// the settings say so. The caller disposes both before the backend.
    /// </summary>
    (IAgedAdam Adam, ICbpKernels? Cbp) CreateAgedAdam(AdamSettings adam, IReadOnlyList<HiddenLayerLayout> layers, CbpSettings? cbp);

    /// <summary>
    /// CBP kernels next to an optimizer that keeps no per-weight state they could reset (TorchSharp's
    /// Adam); settings that reset optimizer state are refused.
    /// </summary>
    ICbpKernels CreateCbp(IReadOnlyList<HiddenLayerLayout> layers, CbpSettings cbp);

    /// <summary>Waits for everything launched so far (kernels may run asynchronously to the host).</summary>
    void Synchronize();
}
