using CbpGpu.Agent.Networks;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Bench;

/// <summary>
/// The two networks of docs/ppo.md#networks (obs -> W -> W -> 8 policy mean, obs -> W -> W -> 1 value, plus an
/// 8-float log-std), all parameters in one flat float32 buffer and all gradients in another, as
/// the Agent keeps them (<see cref="Agent"/> is the Agent's own, with its alignment padding). W = 256 * width:
/// 191,249 parameters at width 1, ~13.7M at width 10.
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
            var h = GC.AllocateArray<float>(Batch * l.Units, pinned: true); // the kernels take its address
            for (int i = 0; i < h.Length; i++) h[i] = random.Next(3) == 0 ? 0f : (float)random.NextDouble() * 2f;
            return h;
        }).ToArray();
    }

    /// <summary>The Agent's own flat parameters of these networks, LeCun-uniform, with a gradient in [-1, 1) on every parameter.</summary>
    public static FlatParameters Agent(int width, int seed)
    {
        var parameters = new FlatParameters(new ParameterLayout(Observation, Hidden(width), Actions), CPU);
        using var generator = new Generator((ulong)seed);
        parameters.Initialize(generator);
        var random = new Random(seed);
        var gradients = BenchSpan.Of(parameters.Grad);
        foreach (var s in parameters.Layout.Parameters)
            Uniform(gradients.Slice((int)s.Offset, (int)s.Length), 1f, random);
        return parameters;
    }
}
