using CbpGpu.Kernels;
using ILGPU.Runtime;

namespace CbpGpu.Tests.Kernels;

/// <summary>Aged Adam plus CBP kernels over a test network, from the CPU-loop or the ILGPU (<see cref="CudaKernelBackend"/>) <see cref="IKernelBackend"/>.</summary>
internal sealed class KernelBackend : IDisposable
{
    private readonly IKernelBackend _backend;

    private KernelBackend(IKernelBackend backend, TestNetwork net, AdamSettings h, CbpSettings s)
    {
        _backend = backend;
        var (adam, cbp) = backend.CreateAgedAdam(h, net.Layers, s);
        Adam = adam;
        Cbp = cbp!;
    }

    public IAgedAdam Adam { get; }

    public ICbpKernels Cbp { get; }

    public static KernelBackend Cpu(TestNetwork net, AdamSettings h, CbpSettings s) =>
        new(new CpuKernelBackend(net.Parameters.View, net.Gradients.View), net, h, s);

    public static KernelBackend Ilgpu(Accelerator accelerator, TestNetwork net, AdamSettings h, CbpSettings s) =>
        new(new CudaKernelBackend(accelerator, net.Parameters.View, net.Gradients.View), net, h, s);

    public (float[] M, float[] V, int[] T) ReadAdam()
    {
        var m = new float[Adam.Length];
        var v = new float[Adam.Length];
        var t = new int[Adam.Length];
        Adam.ReadState(m, v, t);
        return (m, v, t);
    }

    public (int[] Age, float[] F, float[] U) ReadUnits(int layer)
    {
        int n = Cbp.Layers[layer].Units;
        var age = new int[n];
        var f = new float[n];
        var u = new float[n];
        Cbp.ReadUnitState(layer, age, f, u);
        return (age, f, u);
    }

    public void Dispose()
    {
        Cbp.Dispose();
        Adam.Dispose();
        _backend.Dispose();
    }
}
