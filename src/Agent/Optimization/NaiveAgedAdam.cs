using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The reference for <see cref="FusedAgedAdam"/>: aged Adam (SPEC §4) written as ordinary
/// TorchSharp ops, one op at a time for each parameter tensor (about twenty launches per tensor
/// per step), the way a Python implementation with per-element step counters (the reproduction
/// report's CAdam) runs. Reads each parameter's .grad like torch.optim does.
/// </summary>
public sealed class NaiveAgedAdam : IDisposable
{
    private readonly Tensor[] _parameters;
    private readonly Tensor[] _m, _v, _t;
    private readonly AdamHyperparameters _h;

    public NaiveAgedAdam(IReadOnlyList<Tensor> parameters, AdamHyperparameters hyperparameters)
    {
        hyperparameters.Validate();
        _h = hyperparameters;
        _parameters = parameters.ToArray();
        _m = _parameters.Select(p => zeros_like(p)).ToArray();
        _v = _parameters.Select(p => zeros_like(p)).ToArray();
        _t = _parameters.Select(p => zeros_like(p, dtype: ScalarType.Int32)).ToArray();
    }

    /// <summary>The moments and step counters of one of the parameter tensors (same object as passed in).</summary>
    public (Tensor M, Tensor V, Tensor T) StateOf(Tensor parameter)
    {
        int i = Array.FindIndex(_parameters, p => ReferenceEquals(p, parameter));
        if (i < 0) throw new ArgumentException("That tensor is not one of this optimizer's parameters.", nameof(parameter));
        return (_m[i], _v[i], _t[i]);
    }

    public void Step()
    {
        using var noGrad = no_grad();
        double lnBeta1 = Math.Log(_h.Beta1), lnBeta2 = Math.Log(_h.Beta2);
        for (int i = 0; i < _parameters.Length; i++)
        {
            using var scope = NewDisposeScope();
            var theta = _parameters[i];
            var grad = theta.grad ?? throw new InvalidOperationException($"Parameter {i} has no gradient.");
            var (m, v, t) = (_m[i], _v[i], _t[i]);

            t.add_(1);
            // 1 - beta^t per element, in double, then rounded like torch's Python-float scalars.
            var steps = t.to_type(ScalarType.Float64);
            var bias1 = steps.mul(lnBeta1).exp_().neg_().add_(1);
            var sqrtBias2 = steps.mul(lnBeta2).exp_().neg_().add_(1).sqrt_().to_type(ScalarType.Float32);
            var stepSize = bias1.reciprocal_().mul_(_h.LearningRate).to_type(ScalarType.Float32);

            var g = grad.add(theta, alpha: _h.WeightDecay);
            m.mul_(_h.Beta1).add_(g, alpha: 1 - _h.Beta1);
            v.mul_(_h.Beta2).addcmul_(g, g, value: 1 - _h.Beta2);
            var denominator = v.sqrt().div_(sqrtBias2).add_(_h.Epsilon);
            theta.sub_(stepSize.mul_(m).div_(denominator));
        }
    }

    public void Dispose()
    {
        foreach (var x in _m.Concat(_v).Concat(_t)) x.Dispose();
    }
}
