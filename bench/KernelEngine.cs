using CbpGpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace CbpGpu.Bench;

/// <summary>
/// Aged Adam + CBP straight on the Kernels over flat buffers (no TorchSharp): on the CPU loops over host memory, or
/// through <see cref="CudaKernelBackend"/> over device memory allocated here (as libtorch's CUDA tensors would hold
/// it, in the primary context libtorch uses) or over host memory on ILGPU's CPU accelerator. This is what runs on a GPU
/// machine, where libtorch is not carried. The host buffers are the reference copy: <see cref="UploadGradients"/> and
/// <see cref="DownloadParameters"/> move them to and from the device (nothing to do on the host targets).
/// </summary>
public sealed class KernelEngine : IDisposable
{
    private readonly IDisposable? _ownedAccelerator;
    private readonly Accelerator? _accelerator;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _deviceParameters, _deviceGradients;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _deviceActivations = [];
    private readonly NativeView<float>[] _activationViews;
    private readonly IKernelBackend _backend;

    public enum Target { CpuLoops, Cuda, IlgpuCpuSimulator }

    public KernelEngine(Target target, int width, CbpSettings settings, AdamSettings adam, int seed)
    {
        var (layers, length, _) = BenchNetwork.Layout(width);
        Layers = layers;
        Parameters = new NativeBuffer<float>(length);
        Gradients = new NativeBuffer<float>(length);
        BenchNetwork.Fill(Parameters.Span, Gradients.Span, layers, seed);
        Activations = BenchNetwork.Activations(layers, seed + 1);
        _activationViews = Activations.Select(a => NativeView<float>.OfFixed(a)).ToArray();
        switch (target)
        {
            case Target.CpuLoops:
                _backend = new CpuKernelBackend(Parameters.View, Gradients.View);
                break;
            case Target.IlgpuCpuSimulator:
                var context = IlgpuDevices.CreateContext();
                _accelerator = IlgpuDevices.CreateCpuSimulator(context);
                _ownedAccelerator = new Owned(_accelerator, context);
                _backend = new CudaKernelBackend(_accelerator, Parameters.View, Gradients.View);
                break;
            default:
                var cuda = PrimaryContextCuda.Open(0);
                _ownedAccelerator = cuda;
                _accelerator = cuda.Accelerator;
                _deviceParameters = _accelerator.Allocate1D<float>(length);
                _deviceGradients = _accelerator.Allocate1D<float>(length);
                _deviceParameters.View.AsContiguous().CopyFromCPU(Parameters.Span);
                _deviceGradients.View.AsContiguous().CopyFromCPU(Gradients.Span);
                _deviceActivations = Activations.Select(a => _accelerator.Allocate1D(a)).ToArray();
                _activationViews = _deviceActivations.Select(DeviceView).ToArray();
                _backend = new CudaKernelBackend(_accelerator, DeviceView(_deviceParameters), DeviceView(_deviceGradients));
                break;
        }
        var (optimizer, cbp) = _backend.CreateAgedAdam(adam, layers, settings);
        Adam = optimizer;
        Cbp = cbp!;
        Engine = new ContinualBackprop(Cbp, new SplitMix64((ulong)seed));
    }

    public HiddenLayerLayout[] Layers { get; }

    public NativeBuffer<float> Parameters { get; }

    public NativeBuffer<float> Gradients { get; }

    public IAgedAdam Adam { get; }

    public ICbpKernels Cbp { get; }

    public ContinualBackprop Engine { get; }

    public float[][] Activations { get; }

    public string Device => _backend.Device;

    /// <summary>Copies the host gradients to where the kernels read them.</summary>
    public void UploadGradients() => _deviceGradients?.View.AsContiguous().CopyFromCPU(Gradients.Span);

    /// <summary>Copies the parameters the kernels wrote into the host buffer.</summary>
    public void DownloadParameters()
    {
        _accelerator?.Synchronize();
        _deviceParameters?.View.AsContiguous().CopyToCPU(Parameters.Span);
    }

    /// <summary>One optimizer step followed by CBP on this engine's fixed minibatch activations.</summary>
    public int StepWithCbp()
    {
        Adam.Step();
        for (int l = 0; l < Layers.Length; l++) Engine.Observe(l, _activationViews[l], BenchNetwork.Batch);
        int replaced = Engine.GenerateAndTest();
        _backend.Synchronize();
        return replaced;
    }

    public void Dispose()
    {
        Cbp.Dispose();
        Adam.Dispose();
        _backend.Dispose();
        foreach (var a in _deviceActivations) a.Dispose();
        _deviceGradients?.Dispose();
        _deviceParameters?.Dispose();
        _ownedAccelerator?.Dispose();
        Parameters.Dispose();
        Gradients.Dispose();
    }

    // A device buffer's address, as a CUDA tensor's data_ptr would give it.
    private static NativeView<float> DeviceView(MemoryBuffer1D<float, Stride1D.Dense> buffer) =>
        new(buffer.NativePtr, (int)buffer.Length);

    private sealed class Owned(Accelerator accelerator, Context context) : IDisposable
    {
        public void Dispose()
        {
            accelerator.Dispose();
            context.Dispose();
        }
    }
}
