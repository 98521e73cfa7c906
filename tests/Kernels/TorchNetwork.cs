using System.Runtime.InteropServices;
using CbpGpu.Agent.Optimization;
using CbpGpu.Kernels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Kernels;

/// <summary>
/// Two MLPs and a log-std in one flat TorchSharp parameter tensor and one flat gradient tensor,
/// with every Linear also a Parameter view whose .grad is the matching view of the gradient,
/// as the Agent keeps them; a gap between the networks makes the offsets non-trivial.
/// </summary>
internal sealed class TorchNetwork : IDisposable
{
    private const int Gap = 5;
    private readonly List<Tensor> _owned = [];
    private readonly int _gapOffset;

    public TorchNetwork(int input, int hidden1, int hidden2, int actions, int seed)
    {
        int[] policy = [input, hidden1, hidden2, actions];
        int[] value = [input, hidden1, hidden2, 1];
        int policyLength = HiddenLayerLayout.MlpParameterCount(policy);
        int valueOffset = policyLength + actions + Gap;
        _gapOffset = policyLength + actions;
        Length = valueOffset + HiddenLayerLayout.MlpParameterCount(value);
        Layers = [.. HiddenLayerLayout.ForMlp(0, policy), .. HiddenLayerLayout.ForMlp(valueOffset, value)];
        Data = zeros(Length);
        Grad = zeros(Length);
        var parameters = new List<Parameter>();
        var naiveLayers = new List<NaiveHiddenLayer>();
        AddMlp(0, policy, parameters, naiveLayers);
        var logStd = View(policyLength, [actions]);
        parameters.Add(logStd);
        AddMlp(valueOffset, value, parameters, naiveLayers);
        Parameters = parameters;
        HiddenLayers = naiveLayers;

        var random = new Random(seed);
        void Uniform(int offset, int count, int fanIn)
        {
            var p = Span(Data);
            for (int k = 0; k < count; k++) p[offset + k] = (float)(random.NextDouble() * 2 - 1) * CbpMath.InitialBound(fanIn);
        }
        // Every Linear weight LeCun-uniform: each hidden layer's W_in, and the output layers (W_out of h2).
        foreach (var l in Layers) Uniform(l.WeightInOffset, l.Units * l.FanIn, l.FanIn);
        Uniform(Layers[1].WeightOutOffset, actions * hidden2, hidden2);
        Uniform(Layers[3].WeightOutOffset, hidden2, hidden2);
    }

    public int Length { get; }

    public HiddenLayerLayout[] Layers { get; }

    public Tensor Data { get; }

    public Tensor Grad { get; }

    /// <summary>Every parameter view (weights, biases, log-std), .grad set.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The four hidden layers as views, for the naive CBP.</summary>
    public IReadOnlyList<NaiveHiddenLayer> HiddenLayers { get; }

    public static Span<float> Span(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    public void FillGradients(Random random)
    {
        var g = Span(Grad);
        for (int i = 0; i < g.Length; i++) g[i] = (float)(random.NextDouble() * 2 - 1) * (i % 7 == 0 ? 1e-3f : 1f);
        // Like the Agent's alignment padding: no parameter there, so never a gradient.
        g.Slice(_gapOffset, Gap).Clear();
    }

    public void Dispose()
    {
        foreach (var t in _owned) t.Dispose();
        Data.Dispose();
        Grad.Dispose();
    }

    private void AddMlp(int offset, int[] sizes, List<Parameter> parameters, List<NaiveHiddenLayer> hidden)
    {
        var weights = new List<Parameter>();
        var biases = new List<Parameter>();
        int at = offset;
        for (int l = 0; l < sizes.Length - 1; l++)
        {
            weights.Add(View(at, [sizes[l + 1], sizes[l]]));
            at += sizes[l] * sizes[l + 1];
            biases.Add(View(at, [sizes[l + 1]]));
            at += sizes[l + 1];
            parameters.Add(weights[^1]);
            parameters.Add(biases[^1]);
        }
        for (int l = 0; l < sizes.Length - 2; l++)
            hidden.Add(new NaiveHiddenLayer(weights[l], biases[l], weights[l + 1], biases[l + 1]));
    }

    private Parameter View(int offset, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var p = new Parameter(Data.narrow(0, offset, n).view(shape), requires_grad: true);
        p.grad = Grad.narrow(0, offset, n).view(shape);
        _owned.Add(p);
        return p;
    }
}
