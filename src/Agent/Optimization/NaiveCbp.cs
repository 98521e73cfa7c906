using CbpGpu.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The reference for the fused CBP: Continual Backprop (docs/cbp.md) in ordinary TorchSharp ops per layer, in the
/// shape of the published gnt.py and the reproduction's cbp.py, with the host decisions of
/// <see cref="ReplacementChooser"/> so that it makes the same choices as the fused kernels from the same seed.
/// </summary>
internal sealed class NaiveCbp : IContinualBackprop
{
    private readonly HiddenLayerLayout[] _layers;
    private readonly LayerViews[] _weights;
    private readonly LayerViews[][] _optimizerState;
    private readonly CbpSettings _settings;
    private readonly ReplacementChooser _chooser;
    private readonly Tensor[] _age, _f, _u, _fhat, _uhat;
    private readonly long[] _total;

    // Every number passed to a TorchSharp op, as Scalars alive as long as this object: an implicit conversion makes a
    // Scalar the GC may finalize while libtorch still reads it (the hazard NaiveAgedAdam describes).
    private readonly Scalar _zero, _one, _lnEta, _eta, _oneMinusEta, _epsilon;

    /// <summary>One hidden layer's tensors as views into a flat tensor: W_in, bias, W_out, next bias.</summary>
    private sealed record LayerViews(Tensor InWeight, Tensor Bias, Tensor OutWeight, Tensor NextBias)
    {
        public static LayerViews Of(Tensor flat, HiddenLayerLayout l) => new(
            flat.narrow(0, l.WeightInOffset, (long)l.Units * l.FanIn).view(l.Units, l.FanIn),
            flat.narrow(0, l.BiasOffset, l.Units),
            flat.narrow(0, l.WeightOutOffset, (long)l.NextOut * l.Units).view(l.NextOut, l.Units),
            flat.narrow(0, l.NextBiasOffset, l.NextOut));

        public void Dispose()
        {
            InWeight.Dispose();
            Bias.Dispose();
            OutWeight.Dispose();
            NextBias.Dispose();
        }
    }

    /// <param name="parameters">The flat float32 parameter tensor, rewritten in place on replacement.</param>
    /// <param name="optimizer">The optimizer over the same parameters; required when the settings reset its state.</param>
    public NaiveCbp(Tensor parameters, IReadOnlyList<HiddenLayerLayout> layers, CbpSettings settings, NaiveAgedAdam? optimizer, ulong seed)
    {
        settings.Validate();
        if (settings.AdamReset != AdamStateReset.None && optimizer is null)
            throw new ArgumentException("CBP settings reset the optimizer state, but no optimizer was given.");
        foreach (var layer in layers) layer.Validate(parameters.numel());
        _layers = layers.ToArray();
        _settings = settings;
        _chooser = new ReplacementChooser(settings, _layers.Length, new SplitMix64(seed));
        int n = _layers.Length;
        _weights = new LayerViews[n];
        _optimizerState = new LayerViews[n][];
        _age = new Tensor[n];
        _f = new Tensor[n];
        _u = new Tensor[n];
        _fhat = new Tensor[n];
        _uhat = new Tensor[n];
        for (int l = 0; l < n; l++)
        {
            var layer = _layers[l];
            _weights[l] = LayerViews.Of(parameters, layer);
            _optimizerState[l] = optimizer is null ? [] : settings.AdamReset switch
            {
                AdamStateReset.Moments => [LayerViews.Of(optimizer.M, layer), LayerViews.Of(optimizer.V, layer)],
                AdamStateReset.StepCounters => [LayerViews.Of(optimizer.T, layer)],
                AdamStateReset.MomentsAndStepCounters => [LayerViews.Of(optimizer.M, layer), LayerViews.Of(optimizer.V, layer), LayerViews.Of(optimizer.T, layer)],
                _ => [],
            };
            // The per-unit state lives where the parameters live.
            _age[l] = zeros(layer.Units, ScalarType.Int32, parameters.device);
            _f[l] = zeros(layer.Units, device: parameters.device);
            _u[l] = zeros(layer.Units, device: parameters.device);
            _fhat[l] = zeros(layer.Units, device: parameters.device);
            _uhat[l] = zeros(layer.Units, device: parameters.device);
        }
        _total = new long[n];
        double eta = settings.Decay;
        _zero = 0.ToScalar();
        _one = 1.ToScalar();
        _lnEta = Math.Log(eta).ToScalar();
        _eta = eta.ToScalar();
        _oneMinusEta = (1 - eta).ToScalar();
        _epsilon = settings.Epsilon.ToScalar();
    }

    public void AfterStep(IReadOnlyList<Tensor> hiddenActivations)
    {
        if (hiddenActivations.Count != _layers.Length)
            throw new ArgumentException($"{hiddenActivations.Count} activation tensors for {_layers.Length} hidden layers.");
        using var noGrad = no_grad();
        // Test: score every layer before changing any (gnt.py's test_features).
        // (sum(0) would bind to sum(ScalarType) through the literal-0-to-enum conversion.)
        for (int l = 0; l < _layers.Length; l++)
        {
            using var scope = NewDisposeScope();
            var (wIn, _, wOut, _) = _weights[l];
            var h = hiddenActivations[l];
            _age[l].add_(_one, _one);
            var biasCorrection = _age[l].to_type(ScalarType.Float64).mul_(_lnEta).exp_().neg_().add_(_one, _one).to_type(ScalarType.Float32);
            var meanH = h.mean([0]);
            var fhatBefore = _f[l].div(biasCorrection);
            _f[l].mul_(_eta).add_(meanH, alpha: _oneMinusEta);
            var outgoing = wOut.abs().sum(new long[] { 0 });
            using var fanOut = wOut.shape[0].ToScalar();
            var y = _settings.Utility == UtilityKind.Contribution
                ? outgoing.div_(fanOut).mul_(h.abs().mean([0]))
                : outgoing.mul_(meanH.sub(fhatBefore).abs_()).div_(wIn.abs().sum(1).add_(_epsilon, _one));
            _u[l].mul_(_eta).add_(y, alpha: _oneMinusEta);
            _fhat[l].copy_(_f[l].div(biasCorrection));
            _uhat[l].copy_(_u[l].div(biasCorrection));
        }
        // Generate: replace the chosen units, layer by layer.
        for (int l = 0; l < _layers.Length; l++)
        {
            using var scope = NewDisposeScope();
            int[] ages = TensorMemory.ToArray<int>(_age[l]);
            int count = _chooser.DrawCount(l, ages.Length, ReplacementChooser.CountEligible(ages, _settings.MaturityThreshold));
            if (count == 0) continue;
            var chosen = new int[count];
            ReplacementChooser.SelectLowest(ages, TensorMemory.ToArray<float>(_uhat[l]), _settings.MaturityThreshold, chosen);
            var keys = new ulong[count];
            _chooser.DrawKeys(keys);
            Replace(l, chosen, keys);
            _total[l] += count;
        }
    }

    public long TotalReplaced(int layer) => _total[layer];

    public void CopyAges(int layer, Span<int> destination) => TensorMemory.ToArray<int>(_age[layer]).CopyTo(destination);

    public void Save(BinaryWriter writer)
    {
        var layers = new CbpState.Layer[_layers.Length];
        for (int l = 0; l < layers.Length; l++)
            layers[l] = new CbpState.Layer(_chooser.Accumulated[l],
                TensorMemory.ToArray<int>(_age[l]), TensorMemory.ToArray<float>(_f[l]), TensorMemory.ToArray<float>(_u[l]));
        CbpState.Write(writer, _chooser.Random.State, layers);
    }

    public void Load(BinaryReader reader)
    {
        var (random, layers) = CbpState.Read(reader, _layers);
        for (int l = 0; l < layers.Length; l++)
        {
            using (var x = tensor(layers[l].Age)) _age[l].copy_(x);
            using (var x = tensor(layers[l].F)) _f[l].copy_(x);
            using (var x = tensor(layers[l].U)) _u[l].copy_(x);
        }
        CbpState.Apply(_chooser, random, layers);
    }

    private void Replace(int l, int[] units, ulong[] keys)
    {
        var (wIn, bias, wOut, nextBias) = _weights[l];
        int fanIn = _layers[l].FanIn;
        float bound = CbpMath.InitialBound(fanIn, _settings.NewRowBound);
        var fresh = new float[units.Length * fanIn];
        for (int r = 0; r < units.Length; r++)
            for (int j = 0; j < fanIn; j++) fresh[r * fanIn + j] = CbpMath.InitialWeight(keys[r], j, bound);
        var device = wIn.device;
        var index = tensor(units.Select(i => (long)i).ToArray(), device: device);

        wIn.index_copy_(0, index, tensor(fresh, device: device).view(units.Length, fanIn));
        if (_settings.ResetBias) bias.index_fill_(0, index, _zero);
        // One unit at a time: the fused kernel adds the units' terms to next_bias in this order.
        if (_settings.NextBiasCorrection)
            foreach (int unit in units)
                nextBias.add_(wOut.select(1, unit).mul(_fhat[l][unit]), _one);
        wOut.index_fill_(1, index, _zero);
        foreach (var state in _optimizerState[l])
        {
            state.InWeight.index_fill_(0, index, _zero);
            if (_settings.ResetBias) state.Bias.index_fill_(0, index, _zero);
            state.OutWeight.index_fill_(1, index, _zero);
        }
        _age[l].index_fill_(0, index, _zero);
        _f[l].index_fill_(0, index, _zero);
        _u[l].index_fill_(0, index, _zero);
    }

    public void Dispose()
    {
        foreach (var x in new[] { _zero, _one, _lnEta, _eta, _oneMinusEta, _epsilon }) x.Dispose();
        foreach (var w in _weights) w.Dispose();
        foreach (var states in _optimizerState)
            foreach (var s in states) s.Dispose();
        foreach (var x in _age) x.Dispose();
        foreach (var x in _f) x.Dispose();
        foreach (var x in _u) x.Dispose();
        foreach (var x in _fhat) x.Dispose();
        foreach (var x in _uhat) x.Dispose();
    }
}
