using CbpGpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace CbpGpu.Bench;

/// <summary>
/// Aged Adam + CBP straight on the Kernels over native flat buffers (no TorchSharp), on the CPU
/// loops or on an ILGPU accelerator with the buffers mapped zero-copy, as a TorchSharp tensor's
/// memory would be. This is what runs on a GPU machine, where libtorch is not carried.
/// </summary>
public sealed class KernelEngine : IDisposable
{
    private readonly Context? _context;
    private readonly Accelerator? _accelerator;
    private readonly IKernelBackend _backend;

    public enum Target { CpuLoops, Cuda, IlgpuCpuSimulator }

    public KernelEngine(Target target, int width, CbpSettings settings, AdamSettings adam, int seed)
    {
        var (layers, length, _) = BenchNetwork.Layout(width);
        Layers = layers;
        Parameters = new NativeBuffer<float>(length);
        Gradients = new NativeBuffer<float>(length);
        BenchNetwork.Fill(Parameters.Span, Gradients.Span, layers, seed);
        if (target == Target.CpuLoops)
        {
            _backend = new CpuKernelBackend(Parameters.View, Gradients.View);
        }
        else
        {
            _context = IlgpuDevices.CreateContext();
            _accelerator = target == Target.Cuda
                ? IlgpuDevices.TryCreateCuda(_context) ?? throw new InvalidOperationException("No CUDA device: ILGPU found none (is the NVIDIA driver's libcuda.so present?).")
                : IlgpuDevices.CreateCpuSimulator(_context);
            _backend = new IlgpuKernelBackend(_accelerator, Parameters.View, Gradients.View);
        }
        var (optimizer, cbp) = _backend.CreateAgedAdam(adam, layers, settings);
        Adam = optimizer;
        Cbp = cbp!;
        Engine = new ContinualBackprop(Cbp, new SplitMix64((ulong)seed));
        Activations = BenchNetwork.Activations(layers, seed + 1);
    }

    public HiddenLayerLayout[] Layers { get; }

    public NativeBuffer<float> Parameters { get; }

    public NativeBuffer<float> Gradients { get; }

    public IAgedAdam Adam { get; }

    public ICbpKernels Cbp { get; }

    public ContinualBackprop Engine { get; }

    public float[][] Activations { get; }

    public string Device => _backend.Device;

    /// <summary>One optimizer step followed by CBP on this engine's fixed minibatch activations.</summary>
    public int StepWithCbp()
    {
        Adam.Step();
        for (int l = 0; l < Layers.Length; l++) Engine.Observe(l, Activations[l], BenchNetwork.Batch);
        int replaced = Engine.GenerateAndTest();
        _backend.Synchronize();
        return replaced;
    }

    public void Dispose()
    {
        Cbp.Dispose();
        Adam.Dispose();
        _backend.Dispose();
        _accelerator?.Dispose();
        _context?.Dispose();
        Parameters.Dispose();
        Gradients.Dispose();
    }
}
