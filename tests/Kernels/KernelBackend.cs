using CbpGpu.Kernels;
using ILGPU.Runtime;

namespace CbpGpu.Tests.Kernels;

/// <summary>Aged Adam plus CBP kernels over a test network, on the CPU loops or on an ILGPU accelerator.</summary>
internal sealed class KernelBackend : IDisposable
{
    private readonly ExternalMemory<float>? _parameters;
    private readonly ExternalMemory<float>? _gradients;

    private KernelBackend(IAgedAdam adam, ICbpKernels cbp, ExternalMemory<float>? parameters, ExternalMemory<float>? gradients)
    {
        Adam = adam;
        Cbp = cbp;
        _parameters = parameters;
        _gradients = gradients;
    }

    public IAgedAdam Adam { get; }

    public ICbpKernels Cbp { get; }

    public static KernelBackend Cpu(TestNetwork net, AdamHyperparameters h, CbpSettings s)
    {
        var adam = new CpuAgedAdam(net.Parameters.View, net.Gradients.View, h);
        return new KernelBackend(adam, new CpuCbpKernels(net.Parameters.View, net.Layers, s, adam), null, null);
    }

    public static KernelBackend Ilgpu(Accelerator accelerator, TestNetwork net, AdamHyperparameters h, CbpSettings s)
    {
        var parameters = ExternalMemory<float>.Wrap(accelerator, net.Parameters.View);
        var gradients = ExternalMemory<float>.Wrap(accelerator, net.Gradients.View);
        var adam = new IlgpuAgedAdam(accelerator, parameters.View, gradients.View, h);
        var cbp = new IlgpuCbpKernels(accelerator, parameters.View, net.Layers, s, adam);
        return new KernelBackend(adam, cbp, parameters, gradients);
    }

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
        _parameters?.Dispose();
        _gradients?.Dispose();
    }
}
