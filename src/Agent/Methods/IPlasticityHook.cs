using CbpGpu.Agent.Networks;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Methods;

/// <summary>What a method sees around each optimizer step (docs/extending.md#hooks).</summary>
/// <param name="Parameters">The flat parameters (rewritten in place by the method) and their flat gradient (.Grad).</param>
/// <param name="Optimizer">The optimizer that just stepped: its state, for methods that reset part of it.</param>
/// <param name="HiddenActivations">This minibatch's activations after the nonlinearity, [batch x units] per hidden layer, in ParameterLayout.HiddenLayers order.</param>
public readonly record struct StepView(FlatParameters Parameters, IParameterOptimizer Optimizer, IReadOnlyList<Tensor> HiddenActivations);

/// <summary>
/// A plasticity method's work during training (docs/extending.md#hooks): before and after each optimizer step, after each update,
/// its own updates.csv columns, and the payload of its checkpoint block. A method without one (std, ns, l2) is plain
/// optimizer settings.
/// </summary>
public interface IPlasticityHook : IDisposable
{
    /// <summary>Before each optimizer step, the gradient complete (clipped where the run clips): a method may add to it.</summary>
    void BeforeStep(in StepView step) { }

    void AfterStep(in StepView step);

    /// <summary>After each PPO update (<paramref name="update"/> counts from 1 over the whole run).</summary>
    void AfterUpdate(int update) { }

    /// <summary>The method's own updates.csv columns (and TensorBoard scalars updates/NAME), after the common ones.</summary>
    IReadOnlyList<string> Columns => [];

    /// <summary>This update's values of <see cref="Columns"/>, in that order.</summary>
    void WriteColumns(Span<double> values) { }

    /// <summary>Everything needed to continue bit-for-bit, payload only.</summary>
    void Save(BinaryWriter writer);

    /// <summary>Restores <see cref="Save"/>'s payload; throws <see cref="InvalidDataException"/> when it does not fit.</summary>
    void Load(BinaryReader reader);
}

/// <summary>A method that re-initialises hidden units: updates.csv's replaced_ and age_ columns count its work.</summary>
public interface IUnitReplacing
{
    /// <summary>Units of this layer replaced since construction (a resumed run counts from its own start).</summary>
    long TotalReplaced(int layer);

    /// <summary>Optimizer steps since each unit of the layer was (re)initialised.</summary>
    void CopyAges(int layer, Span<int> destination);
}
