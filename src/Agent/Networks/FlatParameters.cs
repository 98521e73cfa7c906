using TorchSharp;
using TorchSharp.Modules;
using CbpGpu.Agent.Settings;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Networks;

/// <summary>
/// All parameters of both networks in ONE contiguous float32 tensor <see cref="Data"/> and all gradients in ONE
/// contiguous tensor <see cref="Grad"/>, laid out by <see cref="Layout"/>. Each named <see cref="Parameter"/> is a
/// view into Data whose .grad is pre-set to the matching view of Grad, so autograd accumulates straight into the
/// flat gradient. Gradients are zeroed in place (<see cref="ZeroGrad"/>), never set to none: a fresh .grad would
/// detach the views from Grad.
/// </summary>
public sealed class FlatParameters : IDisposable
{
    private readonly Parameter[] _parameters;

    public FlatParameters(ParameterLayout layout, Device device)
    {
        Layout = layout;
        Data = zeros(layout.TotalSize, ScalarType.Float32, device);
        Grad = zeros(layout.TotalSize, ScalarType.Float32, device);
        _parameters = new Parameter[layout.Parameters.Count];
        for (int i = 0; i < _parameters.Length; i++)
        {
            var s = layout.Parameters[i];
            // A view of a tensor that does not require grad is a leaf; marking it is what makes it a parameter.
            using var data = Data.narrow(0, s.Offset, s.Length);
            using var grad = Grad.narrow(0, s.Offset, s.Length);
            _parameters[i] = new Parameter(data.view(s.Shape), requires_grad: true);
            using var gradView = grad.view(s.Shape);
            _parameters[i].grad = gradView;   // .grad keeps its own reference to the view
        }
        Flat = new Parameter(Data.view(layout.TotalSize), requires_grad: true);
        Flat.grad = Grad;
    }

    public ParameterLayout Layout { get; }

    /// <summary>Every parameter, flat, in <see cref="Layout"/> order; padding is zero.</summary>
    public Tensor Data { get; }

    /// <summary>Every gradient, same layout as <see cref="Data"/>; autograd accumulates into it.</summary>
    public Tensor Grad { get; }

    /// <summary>
    /// <see cref="Data"/>'s floats in host memory, for a method's per-element loop on the CPU (rewritten in place); a
    /// run on another device is refused (src/Kernels/MEMORY.md).
    /// </summary>
    public Span<float> DataOnHost => Optimization.TensorMemory.OnHost(Data, "the parameter tensor");

    /// <summary><see cref="Grad"/>'s floats in host memory, as <see cref="DataOnHost"/>.</summary>
    public Span<float> GradOnHost => Optimization.TensorMemory.OnHost(Grad, "the gradient tensor");

    /// <summary>
    /// Data again, as one parameter whose .grad is <see cref="Grad"/>: what a whole-model optimizer updates.
    /// Never use it in a forward pass (the named views are the autograd leaves).
    /// </summary>
    public Parameter Flat { get; }

    /// <summary>The autograd leaf for a slice of <see cref="Layout"/> (a view into <see cref="Data"/>).</summary>
    public Parameter this[ParameterSlice slice] => _parameters[IndexOf(slice)];

    public IReadOnlyList<Parameter> All => _parameters;

    private int IndexOf(ParameterSlice slice)
    {
        for (int i = 0; i < _parameters.Length; i++)
            if (ReferenceEquals(Layout.Parameters[i], slice)) return i;
        throw new ArgumentException($"{slice.Name} is not part of this layout", nameof(slice));
    }

    public void ZeroGrad() => Grad.zero_();

    /// <summary>LeCun-uniform init with gain 1 (docs/ppo.md#initialisation): the authors' networks.</summary>
    public void Initialize(Generator generator) => Initialize(generator, NetworkSettings.Nature2024);

    /// <summary>
    /// Every Linear weight drawn by <see cref="NetworkSettings.Init"/> and scaled by its gain, in flat order from
    /// <paramref name="generator"/>; biases 0, log_std 0 (docs/ppo.md#initialisation).
    /// </summary>
    public void Initialize(Generator generator, NetworkSettings network)
    {
        using var noGrad = no_grad();
        Data.zero_();
        foreach (var w in Layout.Weights)
        {
            double gain = ReferenceEquals(w, Layout.PolicyW3) ? network.PolicyOutputGain
                : ReferenceEquals(w, Layout.ValueW3) ? network.ValueOutputGain
                : network.HiddenGain;
            using var view = Data.narrow(0, w.Offset, w.Length);
            switch (network.Init)
            {
                case InitScheme.LecunUniform:
                    double bound = gain * Math.Sqrt(3.0 / w.Shape[1]);
                    if (view.device_type == DeviceType.CPU)
                    {
                        view.uniform_(-bound, bound, generator);
                    }
                    else
                    {
                        // The generator is a CPU one, so a run draws the same initial weights on every device; libtorch
                        // draws only on its generator's device.
                        using var drawn = empty(w.Length, ScalarType.Float32, CPU);
                        drawn.uniform_(-bound, bound, generator);
                        view.copy_(drawn);
                    }
                    break;
                case InitScheme.Orthogonal:
                    using (var scope = NewDisposeScope())
                    using (Scalar g = gain)
                        view.copy_(Orthogonal(w.Shape[0], w.Shape[1], generator).mul_(g).flatten());
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(network), network.Init, null);
            }
        }
    }

    /// <summary>
    /// A [rows x cols] matrix with orthonormal rows or columns (whichever are fewer), as torch.nn.init.orthogonal_ draws
    /// it: QR of a standard normal matrix (transposed when wide), Q's columns signed by R's diagonal so that the result
    /// is uniform over such matrices. Computed on the CPU in float32.
    /// </summary>
    public static Tensor Orthogonal(long rows, long cols, Generator generator)
    {
        var a = randn([rows, cols], ScalarType.Float32, CPU, generator: generator);
        if (rows < cols) a = a.t();
        var (q, r) = linalg.qr(a);
        q = q.mul(r.diagonal().sign());
        return rows < cols ? q.t().contiguous() : q;
    }

    /// <summary>Mean |w| of each weight of <see cref="ParameterLayout.Weights"/>.</summary>
    public double[] MeanAbsWeights()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var result = new double[Layout.Weights.Count];
        for (int i = 0; i < result.Length; i++)
        {
            var w = Layout.Weights[i];
            result[i] = Data.narrow(0, w.Offset, w.Length).abs().mean().cpu().item<float>();
        }
        return result;
    }

    public float[] ToArray()
    {
        using var cpu = Data.cpu();
        return cpu.data<float>().ToArray();
    }

    public void CopyFrom(ReadOnlySpan<float> values)
    {
        if (values.Length != Layout.TotalSize)
            throw new InvalidDataException($"parameter count {values.Length} does not match the networks' {Layout.TotalSize}");
        using var noGrad = no_grad();
        using var cpu = tensor(values.ToArray(), ScalarType.Float32);
        Data.copy_(cpu);
    }

    public void Dispose()
    {
        foreach (var p in _parameters) p.Dispose();
        Flat.Dispose();
        Grad.Dispose();
        Data.Dispose();
    }
}
