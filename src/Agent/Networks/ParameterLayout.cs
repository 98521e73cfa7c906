using CbpGpu.Kernels;

namespace CbpGpu.Agent.Networks;

/// <summary>Where one parameter lives in the flat tensors: elements [Offset, Offset + Length), row-major Shape.</summary>
public sealed record ParameterSlice(string Name, long Offset, long[] Shape)
{
    public long Length
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }
}

/// <summary>
/// The layout of every parameter of the policy and value networks in one contiguous float32 tensor (and the
/// gradients in another with the same layout). Each parameter starts at a multiple of <see cref="Alignment"/>
/// elements; the gaps are zero in both tensors and stay zero under Adam (zero gradient, zero weight).
/// </summary>
public sealed class ParameterLayout
{
    public const int Alignment = 16;   // 64 bytes: every parameter starts on a cache line

    public ParameterLayout(int observationSize, int hiddenUnits, int actionSize)
    {
        ObservationSize = observationSize;
        HiddenUnits = hiddenUnits;
        ActionSize = actionSize;
        var list = new List<ParameterSlice>();
        long offset = 0;
        ParameterSlice Add(string name, params long[] shape)
        {
            var s = new ParameterSlice(name, offset, shape);
            list.Add(s);
            offset += (s.Length + Alignment - 1) / Alignment * Alignment;
            return s;
        }
        int h = hiddenUnits;
        PolicyW1 = Add("policy.l1.weight", h, observationSize);
        PolicyB1 = Add("policy.l1.bias", h);
        PolicyW2 = Add("policy.l2.weight", h, h);
        PolicyB2 = Add("policy.l2.bias", h);
        PolicyW3 = Add("policy.mean.weight", actionSize, h);
        PolicyB3 = Add("policy.mean.bias", actionSize);
        LogStd = Add("policy.log_std", actionSize);
        ValueW1 = Add("value.l1.weight", h, observationSize);
        ValueB1 = Add("value.l1.bias", h);
        ValueW2 = Add("value.l2.weight", h, h);
        ValueB2 = Add("value.l2.bias", h);
        ValueW3 = Add("value.out.weight", 1, h);
        ValueB3 = Add("value.out.bias", 1);
        Parameters = list;
        TotalSize = offset;
        HiddenLayers =
        [
            Hidden(PolicyW1, PolicyB1, PolicyW2, PolicyB2),
            Hidden(PolicyW2, PolicyB2, PolicyW3, PolicyB3),
            Hidden(ValueW1, ValueB1, ValueW2, ValueB2),
            Hidden(ValueW2, ValueB2, ValueW3, ValueB3),
        ];
        HiddenLayerNames = ["policy.h1", "policy.h2", "value.h1", "value.h2"];
        Weights = [PolicyW1, PolicyW2, PolicyW3, ValueW1, ValueW2, ValueW3];
    }

    public int ObservationSize { get; }
    public int HiddenUnits { get; }
    public int ActionSize { get; }

    /// <summary>Elements of the flat tensors, padding included.</summary>
    public long TotalSize { get; }

    /// <summary>Every parameter in flat order.</summary>
    public IReadOnlyList<ParameterSlice> Parameters { get; }

    /// <summary>
    /// Where CBP finds each hidden layer's weights in the flat tensors: policy.h1, policy.h2, value.h1, value.h2
    /// (<see cref="HiddenLayerNames"/>), the order in which the activations are passed to CBP.
    /// </summary>
    public IReadOnlyList<HiddenLayerLayout> HiddenLayers { get; }

    /// <summary>The names of <see cref="HiddenLayers"/>, same order.</summary>
    public IReadOnlyList<string> HiddenLayerNames { get; }

    /// <summary>The six Linear weights (policy l1, l2, mean; value l1, l2, out), for per-layer statistics.</summary>
    public IReadOnlyList<ParameterSlice> Weights { get; }

    public ParameterSlice PolicyW1 { get; }
    public ParameterSlice PolicyB1 { get; }
    public ParameterSlice PolicyW2 { get; }
    public ParameterSlice PolicyB2 { get; }
    public ParameterSlice PolicyW3 { get; }
    public ParameterSlice PolicyB3 { get; }
    public ParameterSlice LogStd { get; }
    public ParameterSlice ValueW1 { get; }
    public ParameterSlice ValueB1 { get; }
    public ParameterSlice ValueW2 { get; }
    public ParameterSlice ValueB2 { get; }
    public ParameterSlice ValueW3 { get; }
    public ParameterSlice ValueB3 { get; }

    // W_in [units x fan_in] (row i = unit i), the next Linear's W_out [next_out x units] (column i = unit i).
    private static HiddenLayerLayout Hidden(ParameterSlice inWeight, ParameterSlice bias, ParameterSlice outWeight, ParameterSlice nextBias) =>
        new(Offset(inWeight), (int)inWeight.Shape[1], Offset(bias), (int)inWeight.Shape[0],
            Offset(outWeight), (int)outWeight.Shape[0], Offset(nextBias));

    private static int Offset(ParameterSlice s) =>
        s.Offset + s.Length <= int.MaxValue ? (int)s.Offset : throw new ArgumentException($"{s.Name} lies beyond the 2^31 floats the kernels address.");
}
