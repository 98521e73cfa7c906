using System.Numerics;

namespace CbpGpu.Kernels;

/// <summary>
/// CBP statistics and replacement on the CPU over a flat parameter buffer the caller owns.
/// Per unit the sums run in the same order as the ILGPU kernels (batch rows ascending, W_out
/// rows ascending, W_in row elements ascending), so both give bit-identical results; the rows
/// are walked with SIMD across units, which keeps that order per unit.
/// </summary>
public sealed unsafe class CpuCbpKernels : ICbpKernels
{
    // A layer's statistics are split across threads only from 1,024 units up (10x wider networks): at 256 units one
    // layer is tens of microseconds of work, and handing half of it to another thread cost more than it saved (issue 26,
    // docs/speed.md#cbp-statistics). Chunks only partition the units; every unit's sums are the same either way.
    private const int MinUnitsPerChunk = 1024;
    private readonly NativeView<float> _parameters;
    private readonly HiddenLayerLayout[] _layers;
    private readonly int[] _stateOffsets;
    private readonly CpuAgedAdam? _optimizer;
    private readonly NativeBuffer<int> _age;
    private readonly NativeBuffer<float> _f, _u, _fhat, _uhat;
    private readonly NativeBuffer<float> _sumH, _sumAbsH, _sumAbsOut;
    private readonly NativeBuffer<float> _biasCorrection;
    private readonly ParallelChunks[] _chunks;
    private readonly Action<int> _statisticsChunk;
    private readonly CbpScalars _scalars;

    // The layer and minibatch the chunk body works on during one UpdateStatistics call.
    private int _currentLayer;
    private float* _currentActivations;
    private int _currentBatch;

    /// <param name="optimizer">The optimizer over the same parameters; required when the settings reset its state.</param>
    public CpuCbpKernels(NativeView<float> parameters, IReadOnlyList<HiddenLayerLayout> layers, CbpSettings settings,
        CpuAgedAdam? optimizer = null, int maxDegreeOfParallelism = 0)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (settings.AdamReset != AdamStateReset.None && optimizer is null)
            throw new ArgumentException("CBP settings reset the optimizer state, but no optimizer was given.");
        if (optimizer is not null && optimizer.Length != parameters.Length)
            throw new ArgumentException($"Optimizer over {optimizer.Length} parameters, CBP over {parameters.Length}.");
        _parameters = parameters;
        _layers = layers.ToArray();
        _optimizer = optimizer;
        Settings = settings;
        _stateOffsets = HiddenLayerLayout.UnitStateOffsets(_layers, parameters.Length, out int units, out int maxUnits);
        _chunks = new ParallelChunks[_layers.Length];
        for (int l = 0; l < _layers.Length; l++)
            _chunks[l] = new ParallelChunks(_layers[l].Units, MinUnitsPerChunk, maxDegreeOfParallelism);
        _age = new NativeBuffer<int>(units);
        _f = new NativeBuffer<float>(units);
        _u = new NativeBuffer<float>(units);
        _fhat = new NativeBuffer<float>(units);
        _uhat = new NativeBuffer<float>(units);
        _sumH = new NativeBuffer<float>(maxUnits);
        _sumAbsH = new NativeBuffer<float>(maxUnits);
        _sumAbsOut = new NativeBuffer<float>(maxUnits);
        float[] table = BiasCorrectionTable.Plain(settings.Decay);
        _biasCorrection = new NativeBuffer<float>(table.Length);
        table.CopyTo(_biasCorrection.Span);
        _scalars = CbpScalars.From(settings, table.Length - 1);
        _statisticsChunk = StatisticsChunk;
    }

    public IReadOnlyList<HiddenLayerLayout> Layers => _layers;

    public CbpSettings Settings { get; }

    public void UpdateStatistics(int layer, NativeView<float> activations, int batchSize)
    {
        var L = _layers[layer];
        CbpArguments.CheckActivations(L, activations.Length, batchSize);
        _currentLayer = layer;
        _currentActivations = activations.Pointer;
        _currentBatch = batchSize;
        _chunks[layer].Run(_statisticsChunk);
        _currentActivations = null;
    }

    private void StatisticsChunk(int chunk)
    {
        var L = _layers[_currentLayer];
        var chunks = _chunks[_currentLayer];
        int i0 = chunks.Start(chunk), i1 = chunks.End(chunk);
        int units = L.Units, batch = _currentBatch;
        float* p = _parameters.Pointer;
        float* sumH = _sumH.View.Pointer, sumAbsH = _sumAbsH.View.Pointer, sumAbsOut = _sumAbsOut.View.Pointer;
        SumColumns(_currentActivations, units, batch, sumH, sumAbsH, i0, i1);
        SumColumns(p + L.WeightOutOffset, units, L.NextOut, null, sumAbsOut, i0, i1);

        int so = _stateOffsets[_currentLayer];
        int* age = _age.View.Pointer + so;
        float* f = _f.View.Pointer + so, u = _u.View.Pointer + so, fhat = _fhat.View.Pointer + so, uhat = _uhat.View.Pointer + so;
        float* correction = _biasCorrection.View.Pointer;
        var s = _scalars;
        float* sumAbsIn = stackalloc float[SumAbsUnits];
        // Only the adaptable contribution divides by sum_j |W_in[i,j]|; the contribution utility (the nature2024 preset's)
        // never reads W_in, and skipping it was half of the statistics' time (issue 26, docs/speed.md#cbp-statistics).
        bool readsIncoming = s.Utility != (int)UtilityKind.Contribution;
        for (int q = 0; q < SumAbsUnits; q++) sumAbsIn[q] = 0f;
        for (int i = i0; i < i1; i += SumAbsUnits)
        {
            int n = Math.Min(SumAbsUnits, i1 - i);
            if (readsIncoming) SumAbsRows(p + L.WeightInOffset + (long)i * L.FanIn, L.FanIn, n, sumAbsIn);
            for (int q = 0; q < n; q++)
            {
                int k = CbpMath.AdvanceAge(ref age[i + q], s.LastTableIndex);
                CbpMath.UpdateUnit(ref f[i + q], ref u[i + q], out fhat[i + q], out uhat[i + q],
                    sumH[i + q] / batch, sumAbsH[i + q] / batch, sumAbsOut[i + q], L.NextOut, sumAbsIn[q], correction[k], s);
            }
        }
    }

    private const int SumAbsUnits = 8;

    /// <summary>
    /// sum_j |row_q[j]| for <paramref name="count"/> (at most 8) consecutive rows of <paramref name="fanIn"/> floats, each
    /// summed j ascending as the ILGPU kernel sums it. One row's sum is a chain of dependent additions (latency-bound:
    /// this was most of the statistics' time, issue 26); eight rows side by side are eight independent chains, each in
    /// its own order, so the results are the same bits.
    /// </summary>
    private static void SumAbsRows(float* rows, int fanIn, int count, float* result)
    {
        if (count == SumAbsUnits)
        {
            float* r0 = rows, r1 = r0 + fanIn, r2 = r1 + fanIn, r3 = r2 + fanIn, r4 = r3 + fanIn, r5 = r4 + fanIn, r6 = r5 + fanIn, r7 = r6 + fanIn;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
            for (int j = 0; j < fanIn; j++)
            {
                s0 += Math.Abs(r0[j]);
                s1 += Math.Abs(r1[j]);
                s2 += Math.Abs(r2[j]);
                s3 += Math.Abs(r3[j]);
                s4 += Math.Abs(r4[j]);
                s5 += Math.Abs(r5[j]);
                s6 += Math.Abs(r6[j]);
                s7 += Math.Abs(r7[j]);
            }
            result[0] = s0; result[1] = s1; result[2] = s2; result[3] = s3;
            result[4] = s4; result[5] = s5; result[6] = s6; result[7] = s7;
            return;
        }
        for (int q = 0; q < count; q++)
        {
            float* row = rows + (long)q * fanIn;
            float sum = 0f;
            for (int j = 0; j < fanIn; j++) sum += Math.Abs(row[j]);
            result[q] = sum;
        }
    }

    /// <summary>
    /// sum[i] = sum_r rows[r][i] (if <paramref name="sum"/> is given) and sumAbs[i] = sum_r |rows[r][i]| over
    /// <paramref name="count"/> rows <paramref name="stride"/> floats apart, for i in [i0, i1). Each unit's sums start at 0
    /// and add the rows r ascending (the ILGPU kernels' order, so the same bits), held in registers across the rows for
    /// 4 vectors of units at a time: one load per element, no store per row (issue 26: the sums were read and written
    /// back once per row before).
    /// </summary>
    private static void SumColumns(float* rows, int stride, int count, float* sum, float* sumAbs, int i0, int i1)
    {
        int w = Vector<float>.Count;
        int i = i0;
        for (; i + 4 * w <= i1; i += 4 * w)
        {
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
            Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* r = rows + i;
            for (int k = 0; k < count; k++, r += stride)
            {
                var x0 = Vector.Load(r);
                var x1 = Vector.Load(r + w);
                var x2 = Vector.Load(r + 2 * w);
                var x3 = Vector.Load(r + 3 * w);
                s0 += x0; s1 += x1; s2 += x2; s3 += x3;
                a0 += Vector.Abs(x0); a1 += Vector.Abs(x1); a2 += Vector.Abs(x2); a3 += Vector.Abs(x3);
            }
            if (sum != null)
            {
                Vector.Store(s0, sum + i); Vector.Store(s1, sum + i + w);
                Vector.Store(s2, sum + i + 2 * w); Vector.Store(s3, sum + i + 3 * w);
            }
            Vector.Store(a0, sumAbs + i); Vector.Store(a1, sumAbs + i + w);
            Vector.Store(a2, sumAbs + i + 2 * w); Vector.Store(a3, sumAbs + i + 3 * w);
        }
        for (; i + w <= i1; i += w)
        {
            Vector<float> s0 = default, a0 = default;
            float* r = rows + i;
            for (int k = 0; k < count; k++, r += stride)
            {
                var x = Vector.Load(r);
                s0 += x;
                a0 += Vector.Abs(x);
            }
            if (sum != null) Vector.Store(s0, sum + i);
            Vector.Store(a0, sumAbs + i);
        }
        for (; i < i1; i++)
        {
            float s0 = 0f, a0 = 0f;
            float* r = rows + i;
            for (int k = 0; k < count; k++, r += stride)
            {
                s0 += *r;
                a0 += Math.Abs(*r);
            }
            if (sum != null) sum[i] = s0;
            sumAbs[i] = a0;
        }
    }

    public void Replace(int layer, ReadOnlySpan<int> units, ReadOnlySpan<ulong> noiseKeys)
    {
        var L = _layers[layer];
        CbpArguments.CheckReplacement(L, units, noiseKeys);
        float* p = _parameters.Pointer;
        var s = _scalars;
        bool reset = s.AdamReset != 0;
        float* m = reset ? _optimizer!.M.Pointer : null, v = reset ? _optimizer!.V.Pointer : null;
        int* t = reset ? _optimizer!.T.Pointer : null;
        int so = _stateOffsets[layer];
        float bound = CbpMath.InitialBound(L.FanIn, Settings.NewRowBound);

        for (int r = 0; r < units.Length; r++)
        {
            int unit = units[r];
            for (int j = 0; j <= L.FanIn; j++)
            {
                int o = L.IncomingOffset(unit, j);
                CbpMath.ReplaceIncoming(ref p[o], noiseKeys[r], j, L.FanIn, bound, s);
                if (CbpMath.ResetsIncomingState(j, L.FanIn, s)) CbpMath.ResetOptimizerState(ref m[o], ref v[o], ref t[o], s);
            }
            CbpMath.ResetUnit(ref _age.View.Pointer[so + unit], ref _f.View.Pointer[so + unit], ref _u.View.Pointer[so + unit]);
        }
        float* fhat = _fhat.View.Pointer + so;
        for (int k = 0; k < L.NextOut; k++)
        {
            for (int r = 0; r < units.Length; r++)
            {
                int o = L.OutgoingOffset(k, units[r]);
                CbpMath.RemoveOutgoing(ref p[o], ref p[L.NextBiasOffset + k], fhat[units[r]], s);
                if (reset) CbpMath.ResetOptimizerState(ref m[o], ref v[o], ref t[o], s);
            }
        }
    }

    public void ReadUtilities(int layer, Span<float> destination) => Slice(_uhat, layer).CopyTo(destination);

    public void ReadAges(int layer, Span<int> destination) => Slice(_age, layer).CopyTo(destination);

    public void ReadUnitState(int layer, Span<int> age, Span<float> f, Span<float> u)
    {
        Slice(_age, layer).CopyTo(age);
        Slice(_f, layer).CopyTo(f);
        Slice(_u, layer).CopyTo(u);
    }

    public void WriteUnitState(int layer, ReadOnlySpan<int> age, ReadOnlySpan<float> f, ReadOnlySpan<float> u)
    {
        CbpArguments.CheckUnitState(_layers[layer], age.Length, f.Length, u.Length);
        age.CopyTo(Slice(_age, layer));
        f.CopyTo(Slice(_f, layer));
        u.CopyTo(Slice(_u, layer));
    }

    public void Dispose()
    {
        _age.Dispose();
        _f.Dispose();
        _u.Dispose();
        _fhat.Dispose();
        _uhat.Dispose();
        _sumH.Dispose();
        _sumAbsH.Dispose();
        _sumAbsOut.Dispose();
        _biasCorrection.Dispose();
    }

    private Span<T> Slice<T>(NativeBuffer<T> buffer, int layer) where T : unmanaged =>
        buffer.Span.Slice(_stateOffsets[layer], _layers[layer].Units);
}
