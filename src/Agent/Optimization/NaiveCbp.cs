using CbpGpu.Agent.Networks;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The reference for <see cref="FusedCbp"/>: Continual Backprop (SPEC §4) in ordinary TorchSharp
/// ops per layer, in the shape of the published gnt.py and the reproduction's cbp.py, with the
/// host decisions of <see cref="ReplacementChooser"/> so that it makes the same choices as the
/// fused kernels from the same seed.
/// </summary>
public sealed class NaiveCbp : IContinualBackpropHook, IDisposable
{
    private readonly NaiveHiddenLayer[] _layers;
    private readonly CbpSettings _settings;
    private readonly NaiveAgedAdam? _optimizer;
    private readonly ReplacementChooser _chooser;
    private readonly Tensor[] _age, _f, _u, _fhat, _uhat;
    private readonly int[][] _lastReplaced;
    private readonly long[] _total;

    public NaiveCbp(IReadOnlyList<NaiveHiddenLayer> layers, CbpSettings settings, NaiveAgedAdam? optimizer, ulong seed)
    {
        settings.Validate();
        if (settings.ResetOptimizerState && optimizer is null)
            throw new ArgumentException("CBP settings reset the optimizer state, but no optimizer was given.");
        _layers = layers.ToArray();
        _settings = settings;
        _optimizer = optimizer;
        _chooser = new ReplacementChooser(settings, _layers.Length, new SplitMix64(seed));
        long Units(int l) => _layers[l].InWeight.shape[0];
        _age = Enumerable.Range(0, _layers.Length).Select(l => zeros(Units(l), ScalarType.Int32)).ToArray();
        _f = Enumerable.Range(0, _layers.Length).Select(l => zeros(Units(l))).ToArray();
        _u = Enumerable.Range(0, _layers.Length).Select(l => zeros(Units(l))).ToArray();
        _fhat = Enumerable.Range(0, _layers.Length).Select(l => zeros(Units(l))).ToArray();
        _uhat = Enumerable.Range(0, _layers.Length).Select(l => zeros(Units(l))).ToArray();
        _lastReplaced = new int[_layers.Length][];
        _total = new long[_layers.Length];
    }

    public int[] LastReplaced(int layer) => _lastReplaced[layer] ?? [];

    public (Tensor Age, Tensor F, Tensor U) UnitState(int layer) => (_age[layer], _f[layer], _u[layer]);

    /// <summary>Generate-and-test from one [batch x units] activation tensor per hidden layer; returns units replaced.</summary>
    public int AfterStep(IReadOnlyList<Tensor> activations)
    {
        using var noGrad = no_grad();
        double eta = _settings.Decay;
        // (sum(0) would bind to sum(ScalarType) through the literal-0-to-enum conversion.)
        // Test: score every layer before changing any (gnt.py's test_features).
        for (int l = 0; l < _layers.Length; l++)
        {
            using var scope = NewDisposeScope();
            var (wIn, _, wOut, _) = _layers[l];
            var h = activations[l];
            _age[l].add_(1);
            var biasCorrection = _age[l].to_type(ScalarType.Float64).mul_(Math.Log(eta)).exp_().neg_().add_(1).to_type(ScalarType.Float32);
            var meanH = h.mean([0]);
            var fhatBefore = _f[l].div(biasCorrection);
            _f[l].mul_(eta).add_(meanH, alpha: 1 - eta);
            var outgoing = wOut.abs().sum(new long[] { 0 });
            var y = _settings.Utility == UtilityKind.Contribution
                ? outgoing.div_(wOut.shape[0]).mul_(h.abs().mean([0]))
                : outgoing.mul_(meanH.sub(fhatBefore).abs_()).div_(wIn.abs().sum(1).add_(_settings.Epsilon));
            _u[l].mul_(eta).add_(y, alpha: 1 - eta);
            _fhat[l].copy_(_f[l].div(biasCorrection));
            _uhat[l].copy_(_u[l].div(biasCorrection));
        }
        // Generate: replace the chosen units, layer by layer.
        int total = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            using var scope = NewDisposeScope();
            int[] ages = _age[l].data<int>().ToArray();
            int count = _chooser.DrawCount(l, ReplacementChooser.CountEligible(ages, _settings.MaturityThreshold));
            _lastReplaced[l] = new int[count];
            if (count == 0) continue;
            ReplacementChooser.SelectLowest(ages, _uhat[l].data<float>().ToArray(), _settings.MaturityThreshold, _lastReplaced[l]);
            var keys = new ulong[count];
            _chooser.DrawKeys(keys);
            Replace(l, _lastReplaced[l], keys);
            _total[l] += count;
            total += count;
        }
        return total;
    }

    /// <summary>The trainer's hook: the four hidden layers' activations of this minibatch.</summary>
    public void AfterStep(in HiddenActivations activations) =>
        AfterStep([activations[0], activations[1], activations[2], activations[3]]);

    public long TotalReplaced(int layer) => _total[layer];

    public void CopyAges(int layer, Span<int> destination) => _age[layer].data<int>().CopyTo(destination);

    public void Save(BinaryWriter writer)
    {
        var layers = new CbpState.Layer[_layers.Length];
        for (int l = 0; l < layers.Length; l++)
            layers[l] = new CbpState.Layer(_chooser.Accumulated[l],
                _age[l].data<int>().ToArray(), _f[l].data<float>().ToArray(), _u[l].data<float>().ToArray());
        CbpState.Write(writer, _chooser.Random.State, layers);
    }

    public void Load(BinaryReader reader)
    {
        var (random, layers) = CbpState.Read(reader, _age.Select(a => (int)a.shape[0]).ToArray());
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
        var (wIn, bias, wOut, nextBias) = _layers[l];
        int fanIn = (int)wIn.shape[1];
        float bound = CbpMath.InitialBound(fanIn);
        var fresh = new float[units.Length * fanIn];
        for (int r = 0; r < units.Length; r++)
            for (int j = 0; j < fanIn; j++) fresh[r * fanIn + j] = CbpMath.InitialWeight(keys[r], j, bound);
        var index = tensor(units.Select(i => (long)i).ToArray());

        wIn.index_copy_(0, index, tensor(fresh).view(units.Length, fanIn));
        bias.index_fill_(0, index, 0);
        // One unit at a time: the fused kernel adds the units' terms to next_bias in this order.
        if (_settings.NextBiasCorrection)
            foreach (int unit in units)
                nextBias.add_(wOut.select(1, unit).mul(_fhat[l][unit]));
        wOut.index_fill_(1, index, 0);
        if (_settings.ResetOptimizerState)
        {
            foreach (var x in Unpack(_optimizer!.StateOf(wIn))) x.index_fill_(0, index, 0);
            foreach (var x in Unpack(_optimizer.StateOf(bias))) x.index_fill_(0, index, 0);
            foreach (var x in Unpack(_optimizer.StateOf(wOut))) x.index_fill_(1, index, 0);
        }
        _age[l].index_fill_(0, index, 0);
        _f[l].index_fill_(0, index, 0);
        _u[l].index_fill_(0, index, 0);
    }

    private static Tensor[] Unpack((Tensor M, Tensor V, Tensor T) state) => [state.M, state.V, state.T];

    public void Dispose()
    {
        foreach (var x in _age.Concat(_f).Concat(_u).Concat(_fhat).Concat(_uhat)) x.Dispose();
    }
}
