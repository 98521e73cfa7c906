using CbpGpu.Agent.Networks;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Optimization;

/// <summary>The Agent's hidden layers (<see cref="ParameterLayout.HiddenLayers"/>) as the CBP implementations take them.</summary>
public static class HiddenLayerMapping
{
    /// <summary>Float offsets into the flat parameters, for the fused kernels.</summary>
    public static HiddenLayerLayout ToKernelLayout(this HiddenLayerSlices s) => new(
        Offset(s.InWeight), s.FanIn, Offset(s.Bias), s.Units, Offset(s.OutWeight), s.NextOut, Offset(s.NextBias));

    public static HiddenLayerLayout[] KernelLayouts(ParameterLayout layout) =>
        layout.HiddenLayers.Select(ToKernelLayout).ToArray();

    /// <summary>The parameter tensors (views into the flat data), for the naive reference.</summary>
    public static NaiveHiddenLayer[] NaiveLayers(FlatParameters parameters) =>
        parameters.Layout.HiddenLayers
            .Select(s => new NaiveHiddenLayer(parameters[s.InWeight], parameters[s.Bias], parameters[s.OutWeight], parameters[s.NextBias]))
            .ToArray();

    private static int Offset(ParameterSlice s) =>
        s.Offset + s.Length <= int.MaxValue ? (int)s.Offset : throw new ArgumentException($"{s.Name} lies beyond the 2^31 floats the kernels address.");
}
