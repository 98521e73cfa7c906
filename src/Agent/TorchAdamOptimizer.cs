using CbpGpu.Agent.Networks;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent;

/// <summary>
/// TorchSharp's torch.optim.Adam over the one flat parameter (one set of tensor ops per step, not one per layer).
/// L2 (docs/ppo.md#l2-regularisation: wd * theta added to the gradient before the moments, classic Adam weight_decay, not AdamW) is
/// applied here, in place on the flat gradient, and torch's Adam runs with weight_decay 0: TorchSharp 0.107's
/// Adam leaks its weight-decayed gradient copy every step (measured: +1 MB per step, 5 GB after 5000 steps).
/// The math is the same as torch's weight_decay. After <see cref="Step"/> the flat gradient holds g + wd * theta.
/// TorchSharp's Adam itself passes numbers as Scalars nothing keeps alive (docs/ppo.md#scalars): a reference path only.
/// </summary>
internal sealed class TorchAdamOptimizer : IParameterOptimizer
{
    private readonly FlatParameters _parameters;
    private readonly TorchSharp.Modules.Adam _adam;
    private readonly double _weightDecay;
    private readonly TorchSharp.Scalar _weightDecayScalar;   // a field, so the GC cannot free it mid-call (docs/ppo.md#scalars)

    public TorchAdamOptimizer(FlatParameters parameters, AdamSettings s)
    {
        _parameters = parameters;
        _weightDecay = s.WeightDecay;
        _weightDecayScalar = s.WeightDecay;
        _adam = optim.Adam([parameters.Flat], s.LearningRate, s.Beta1, s.Beta2, s.Eps, weight_decay: 0);
    }

    public void ZeroGrad() => _parameters.ZeroGrad();

    public void Step()
    {
        if (_weightDecay != 0)
            using (no_grad())
                _parameters.Grad.add_(_parameters.Data, alpha: _weightDecayScalar);
        _adam.step();
    }

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

    public void Dispose()
    {
        _adam.Dispose();
        _weightDecayScalar.Dispose();
    }
}
