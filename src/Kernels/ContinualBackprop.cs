namespace CbpGpu.Kernels;

/// <summary>
/// Generate-and-test after every optimizer step (docs/cbp.md#order-within-one-optimizer-step), over any <see cref="ICbpKernels"/>.
/// Per step: <see cref="Observe"/> each hidden layer's activations of the minibatch (age += 1,
/// f, u), then <see cref="GenerateAndTest"/> decides for every observed layer, in layer order,
/// how many and which units to replace and replaces them. As in gnt.py, all layers are scored
/// before any is changed, and replacements run in layer order (a later layer's fresh row
/// overwrites the zero an earlier layer wrote into its column).
/// The host mirrors the ages (they only ever grow by one or drop to zero) so that a GPU backend
/// is read back only on the rare steps that replace something.
/// </summary>
public sealed class ContinualBackprop
{
    private readonly ICbpKernels _kernels;
    private readonly ReplacementChooser _chooser;
    private readonly int[][] _ages;
    private readonly bool[] _observed;
    private readonly float[][] _utilities;
    private readonly int[][] _chosen;
    private readonly ulong[][] _keys;
    private readonly int[] _lastCount;
    private readonly long[] _total;

    public ContinualBackprop(ICbpKernels kernels, SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        _kernels = kernels;
        int layers = kernels.Layers.Count;
        _chooser = new ReplacementChooser(kernels.Settings, layers, random);
        _ages = new int[layers][];
        _utilities = new float[layers][];
        _chosen = new int[layers][];
        _keys = new ulong[layers][];
        for (int l = 0; l < layers; l++)
        {
            int units = kernels.Layers[l].Units;
            _ages[l] = new int[units];
            _utilities[l] = new float[units];
            _chosen[l] = new int[units];
            _keys[l] = new ulong[units];
            kernels.ReadAges(l, _ages[l]);
        }
        _observed = new bool[layers];
        _lastCount = new int[layers];
        _total = new long[layers];
    }

    public ReplacementChooser Chooser => _chooser;

    /// <summary>Unit ages of a layer (host mirror of the kernels' ages).</summary>
    public ReadOnlySpan<int> Ages(int layer) => _ages[layer];

    /// <summary>The units the latest <see cref="GenerateAndTest"/> replaced in this layer.</summary>
    public ReadOnlySpan<int> LastReplaced(int layer) => _chosen[layer].AsSpan(0, _lastCount[layer]);

    /// <summary>Units replaced in this layer since construction.</summary>
    public long TotalReplaced(int layer) => _total[layer];

    /// <summary>
    /// Statistics of one layer from this minibatch: activations [batchSize x Units], row-major, in the memory the
    /// kernels run on (<see cref="ICbpKernels.UpdateStatistics"/>).
    /// </summary>
    public void Observe(int layer, NativeView<float> activations, int batchSize)
    {
        if (_observed[layer])
            throw new InvalidOperationException($"Layer {layer} was observed twice before GenerateAndTest.");
        _kernels.UpdateStatistics(layer, activations, batchSize);
        var ages = _ages[layer];
        for (int i = 0; i < ages.Length; i++) ages[i]++;
        _observed[layer] = true;
    }

    /// <summary>Chooses and replaces units in every observed layer; returns how many in all.</summary>
    public int GenerateAndTest()
    {
        int mt = _kernels.Settings.MaturityThreshold;
        int replaced = 0;
        for (int l = 0; l < _observed.Length; l++)
        {
            _lastCount[l] = 0;
            if (!_observed[l]) continue;
            _observed[l] = false;
            var ages = _ages[l];
            int count = _chooser.DrawCount(l, ages.Length, ReplacementChooser.CountEligible(ages, mt));
            if (count == 0) continue;
            _kernels.ReadUtilities(l, _utilities[l]);
            var chosen = _chosen[l].AsSpan(0, count);
            ReplacementChooser.SelectLowest(ages, _utilities[l], mt, chosen);
            var keys = _keys[l].AsSpan(0, count);
            _chooser.DrawKeys(keys);
            _kernels.Replace(l, chosen, keys);
            foreach (int unit in chosen) ages[unit] = 0;
            _lastCount[l] = count;
            _total[l] += count;
            replaced += count;
        }
        return replaced;
    }

    /// <summary>Re-reads the ages from the kernels after their unit state was written (checkpoint load).</summary>
    public void ReloadAges()
    {
        for (int l = 0; l < _ages.Length; l++)
            _kernels.ReadAges(l, _ages[l]);
    }
}
