using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The reference for <see cref="FusedAgedAdam"/>: aged Adam (SPEC §4) written as ordinary
/// TorchSharp ops, one op at a time for each parameter tensor (about twenty launches per tensor
/// per step), the way a Python implementation with per-element step counters (the reproduction
/// report's CAdam) runs. Reads each parameter's .grad like torch.optim does.
/// </summary>
public sealed class NaiveAgedAdam : IParameterOptimizer
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

    /// <summary>Zeroes every parameter's .grad in place (the trainer's .grad tensors are views of one flat gradient).</summary>
    public void ZeroGrad()
    {
        using var noGrad = no_grad();
        foreach (var p in _parameters) p.grad?.zero_();
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

    /// <summary>The state of every parameter tensor back to back, in <see cref="AgedAdamState"/>'s format.</summary>
    public void Save(BinaryWriter writer)
    {
        var m = new List<float>();
        var v = new List<float>();
        var t = new List<int>();
        for (int i = 0; i < _parameters.Length; i++)
        {
            m.AddRange(_m[i].data<float>());
            v.AddRange(_v[i].data<float>());
            t.AddRange(_t[i].data<int>());
        }
        AgedAdamState.Write(writer, m.ToArray(), v.ToArray(), t.ToArray());
    }

    public void Load(BinaryReader reader)
    {
        long length = _parameters.Sum(p => p.numel());
        var (m, v, t) = AgedAdamState.Read(reader, checked((int)length));
        int at = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            int n = (int)_parameters[i].numel();
            using (var x = tensor(m.AsSpan(at, n).ToArray())) _m[i].copy_(x.view(_m[i].shape));
            using (var x = tensor(v.AsSpan(at, n).ToArray())) _v[i].copy_(x.view(_v[i].shape));
            using (var x = tensor(t.AsSpan(at, n).ToArray())) _t[i].copy_(x.view(_t[i].shape));
            at += n;
        }
    }

    public void Dispose()
    {
        foreach (var x in _m.Concat(_v).Concat(_t)) x.Dispose();
    }
}
