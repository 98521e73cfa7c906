namespace CbpGpu.Agent;

/// <summary>
/// What the PPO update needs from an optimizer over <see cref="Networks.FlatParameters"/>: it reads the flat
/// gradient and updates the flat parameters in place. Built with its Continual Backprop by
/// <see cref="Optimization.OptimizerPair"/>.
/// </summary>
public interface IParameterOptimizer : IDisposable
{
    /// <summary>Zero the flat gradient in place (never release it: the parameter views' .grad point into it).</summary>
    void ZeroGrad();

    /// <summary>One update of the flat parameters from the flat gradient.</summary>
    void Step();

    /// <summary>Everything needed to continue bit-for-bit (moments, step counters), payload only.</summary>
    void Save(BinaryWriter writer);

    /// <summary>Restores <see cref="Save"/>'s payload; throws <see cref="InvalidDataException"/> when it does not fit.</summary>
    void Load(BinaryReader reader);
}
