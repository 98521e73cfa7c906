using CbpGpu.Agent.Networks;
using CbpGpu.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The reference for the fused aged Adam: aged Adam (docs/aged-adam.md#update) written as ordinary TorchSharp ops, one op at a
/// time for each parameter tensor (about twenty launches per tensor per step), the way a Python implementation
/// with per-element step counters (the reproduction report's CAdam) runs. Reads each parameter's .grad like
/// torch.optim does. The moments and counters are kept in flat tensors laid out like the parameters, so the
/// naive CBP finds a replaced weight's state where it finds the weight.
/// </summary>
internal sealed class NaiveAgedAdam : IParameterOptimizer
{
    private readonly Tensor[] _parameters;
    private readonly Tensor[] _m, _v, _t;

    // TorchSharp turns a number passed to an op into a Scalar with a finalizer and drops it as soon as its handle is
    // read, so the GC may free it while libtorch still uses it (seen once in a loaded test run: libtorch's toFloat
    // failing inside addcmul_). Every number this optimizer passes is one of these, alive as long as the optimizer.
    private readonly Scalar _one, _lnBeta1, _lnBeta2, _learningRate, _weightDecay, _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _eps;

    public NaiveAgedAdam(FlatParameters parameters, AdamSettings settings)
    {
        settings.Validate();
        _one = 1.ToScalar();
        _lnBeta1 = Math.Log(settings.Beta1).ToScalar();
        _lnBeta2 = Math.Log(settings.Beta2).ToScalar();
        _learningRate = settings.LearningRate.ToScalar();
        _weightDecay = settings.WeightDecay.ToScalar();
        _beta1 = settings.Beta1.ToScalar();
        _oneMinusBeta1 = (1 - settings.Beta1).ToScalar();
        _beta2 = settings.Beta2.ToScalar();
        _oneMinusBeta2 = (1 - settings.Beta2).ToScalar();
        _eps = settings.Eps.ToScalar();
        var layout = parameters.Layout;
        // The state lives where the parameters live.
        var device = parameters.Data.device;
        M = zeros(layout.TotalSize, device: device);
        V = zeros(layout.TotalSize, device: device);
        T = zeros(layout.TotalSize, ScalarType.Int32, device);
        int count = layout.Parameters.Count;
        _parameters = new Tensor[count];
        _m = new Tensor[count];
        _v = new Tensor[count];
        _t = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            var s = layout.Parameters[i];
            _parameters[i] = parameters.All[i];
            _m[i] = M.narrow(0, s.Offset, s.Length).view(s.Shape);
            _v[i] = V.narrow(0, s.Offset, s.Length).view(s.Shape);
            _t[i] = T.narrow(0, s.Offset, s.Length).view(s.Shape);
        }
    }

    /// <summary>First moments of every parameter, flat, laid out like <see cref="FlatParameters.Data"/>.</summary>
    public Tensor M { get; }

    public Tensor V { get; }

    /// <summary>Step counters (int32), laid out like the parameters.</summary>
    public Tensor T { get; }

    /// <summary>Zeroes every parameter's .grad in place (the trainer's .grad tensors are views of one flat gradient).</summary>
    public void ZeroGrad()
    {
        using var noGrad = no_grad();
        foreach (var p in _parameters) p.grad?.zero_();
    }

    public void Step()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            using var scope = NewDisposeScope();
            var theta = _parameters[i];
            var grad = theta.grad ?? throw new InvalidOperationException($"Parameter {i} has no gradient.");
            var (m, v, t) = (_m[i], _v[i], _t[i]);

            t.add_(_one, _one);
            // 1 - beta^t per element, in double, then rounded like torch's Python-float scalars.
            var steps = t.to_type(ScalarType.Float64);
            var bias1 = steps.mul(_lnBeta1).exp_().neg_().add_(_one, _one);
            var sqrtBias2 = steps.mul(_lnBeta2).exp_().neg_().add_(_one, _one).sqrt_().to_type(ScalarType.Float32);
            var stepSize = bias1.reciprocal_().mul_(_learningRate).to_type(ScalarType.Float32);

            var g = grad.add(theta, alpha: _weightDecay);
            m.mul_(_beta1).add_(g, alpha: _oneMinusBeta1);
            v.mul_(_beta2).addcmul_(g, g, value: _oneMinusBeta2);
            var denominator = v.sqrt().div_(sqrtBias2).add_(_eps, _one);
            theta.sub_(stepSize.mul_(m).div_(denominator));
        }
    }

    public void Save(BinaryWriter writer) =>
        AgedAdamState.Write(writer, TensorMemory.ToArray<float>(M), TensorMemory.ToArray<float>(V), TensorMemory.ToArray<int>(T));

    public void Load(BinaryReader reader)
    {
        var (m, v, t) = AgedAdamState.Read(reader, (int)M.numel());
        using (var x = tensor(m)) M.copy_(x);
        using (var x = tensor(v)) V.copy_(x);
        using (var x = tensor(t)) T.copy_(x);
    }

    public void Dispose()
    {
        foreach (var x in new[] { _one, _lnBeta1, _lnBeta2, _learningRate, _weightDecay, _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _eps }) x.Dispose();
        foreach (var x in _m) x.Dispose();
        foreach (var x in _v) x.Dispose();
        foreach (var x in _t) x.Dispose();
        M.Dispose();
        V.Dispose();
        T.Dispose();
    }
}
