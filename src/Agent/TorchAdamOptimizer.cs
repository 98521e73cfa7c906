using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// TorchSharp's torch.optim.Adam over the one flat parameter (one set of tensor ops per step, not one per layer).
/// Its weight_decay adds wd * theta to the gradient before the moments: classic L2, as SPEC §3 asks.
/// </summary>
public sealed class TorchAdamOptimizer : IParameterOptimizer
{
    private readonly FlatParameters _parameters;
    private readonly TorchSharp.Modules.Adam _adam;

    public TorchAdamOptimizer(FlatParameters parameters, AdamSettings s)
    {
        _parameters = parameters;
        _adam = optim.Adam([parameters.Flat], s.LearningRate, s.Beta1, s.Beta2, s.Eps, s.WeightDecay);
    }

    public void ZeroGrad() => _parameters.ZeroGrad();

    public void Step() => _adam.step();

    public void Save(BinaryWriter writer) => _adam.save_state_dict(writer);

    public void Load(BinaryReader reader)
    {
        try
        {
            _adam.load_state_dict(reader);
        }
        catch (Exception e) when (e is ArgumentException or EndOfStreamException or InvalidOperationException)
        {
            throw new InvalidDataException($"Adam state does not fit these networks: {e.Message}", e);
        }
    }

    public void Dispose() => _adam.Dispose();
}
