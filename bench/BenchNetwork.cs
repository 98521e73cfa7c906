using CbpGpu.Agent.Optimization;
using CbpGpu.Kernels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CbpGpu.Bench;

/// <summary>
/// The two networks of SPEC §3 (obs -> W -> W -> 8 policy mean, obs -> W -> W -> 1 value, plus an
/// 8-float log-std), all parameters in one flat float32 buffer and all gradients in another, as
/// the Agent keeps them. W = 256 * width: 191,249 parameters at width 1, ~13.7M at width 10.
/// </summary>
public static class BenchNetwork
{
    public const int Observation = 111;
    public const int Actions = 8;
    public const int Batch = 128;

    public static int Hidden(int width) => 256 * width;

    public static (HiddenLayerLayout[] Layers, int Length, int PolicyLength) Layout(int width)
    {
        int h = Hidden(width);
        int[] policy = [Observation, h, h, Actions];
        int[] value = [Observation, h, h, 1];
        int policyLength = HiddenLayerLayout.MlpParameterCount(policy);
        int valueOffset = policyLength + Actions;
        HiddenLayerLayout[] layers = [.. HiddenLayerLayout.ForMlp(0, policy), .. HiddenLayerLayout.ForMlp(valueOffset, value)];
        return (layers, valueOffset + HiddenLayerLayout.MlpParameterCount(value), policyLength);
    }

    /// <summary>LeCun-uniform weights, zero biases, and a gradient in [-1, 1), into the given flat spans.</summary>
    public static void Fill(Span<float> parameters, Span<float> gradients, HiddenLayerLayout[] layers, int seed)
    {
        var random = new Random(seed);
        parameters.Clear();
        foreach (var l in layers)
        {
            Uniform(parameters.Slice(l.WeightInOffset, l.Units * l.FanIn), CbpMath.InitialBound(l.FanIn), random);
            if (l.NextOut <= Actions) // output layers are nobody's W_in
                Uniform(parameters.Slice(l.WeightOutOffset, l.NextOut * l.Units), CbpMath.InitialBound(l.Units), random);
        }
        Uniform(gradients, 1f, random);
    }

    private static void Uniform(Span<float> values, float bound, Random random)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * bound;
    }

    /// <summary>Post-ReLU-like activations [Batch x units] per hidden layer (about a third exactly zero).</summary>
    public static float[][] Activations(HiddenLayerLayout[] layers, int seed)
    {
        var random = new Random(seed);
        return layers.Select(l =>
        {
            var h = new float[Batch * l.Units];
            for (int i = 0; i < h.Length; i++) h[i] = random.Next(3) == 0 ? 0f : (float)random.NextDouble() * 2f;
            return h;
        }).ToArray();
    }

    /// <summary>
    /// The naive reference's view of a flat tensor: one Parameter per weight and bias (views of the
    /// flat data, .grad the matching view of the flat gradient), like the Agent's FlatParameters.
    /// </summary>
    public static (List<Parameter> Parameters, List<NaiveHiddenLayer> Hidden) Views(Tensor data, Tensor grad, HiddenLayerLayout[] layers, int policyLength)
    {
        var parameters = new List<Parameter>();
        var cache = new Dictionary<int, Parameter>();
        Parameter View(int offset, params long[] shape)
        {
            if (cache.TryGetValue(offset, out var existing)) return existing;
            long n = shape.Aggregate(1L, (a, b) => a * b);
            var p = new Parameter(data.narrow(0, offset, n).view(shape), requires_grad: true);
            p.grad = grad.narrow(0, offset, n).view(shape);
            parameters.Add(p);
            cache[offset] = p;
            return p;
        }
        var hidden = new List<NaiveHiddenLayer>();
        foreach (var l in layers)
            hidden.Add(new NaiveHiddenLayer(
                View(l.WeightInOffset, l.Units, l.FanIn), View(l.BiasOffset, l.Units),
                View(l.WeightOutOffset, l.NextOut, l.Units), View(l.NextBiasOffset, l.NextOut)));
        View(policyLength, Actions); // log-std
        return (parameters, hidden);
    }
}
