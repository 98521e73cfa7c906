namespace CbpGpu.Agent.Settings;

/// <summary>
/// Which CPU kernels libtorch uses (docs/formats.md#reproducibility). libtorch picks its elementwise kernels (aten) and
/// its matrix products (MKL) by the CPU it runs on, so the same seed gives other last bits on other CPUs; pinning them
/// costs speed (docs/speed.md#cpu-kernels). Read by libtorch once per process, before its first operation.
/// </summary>
public enum CpuKernels
{
    /// <summary>What libtorch picks for this CPU (and the environment's ATEN_CPU_CAPABILITY, MKL_CBWR, if set): the fastest; the same files on the same machine.</summary>
    Native,

    /// <summary>aten's scalar kernels (ATEN_CPU_CAPABILITY=default) and MKL's conditional-numerical-reproducibility branch (MKL_CBWR=COMPATIBLE): the same files on any x86-64-v3 machine.</summary>
    Portable,
}
