using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    private const int SumAbsUnits = 16;

    /// <summary>
    /// sum_j |row_q[j]| for <paramref name="count"/> (at most 16) consecutive rows of <paramref name="fanIn"/> floats, each
    /// summed j ascending as the ILGPU kernel sums it. One row's sum is a chain of dependent additions, so the rows are
    /// summed side by side: with AVX, 8 rows x 8 columns at a time are transposed so that lane q of one vector holds row
    /// q, and the 8 columns are added to it in order, two such groups of 8 rows as independent chains (issue 26: this was
    /// three quarters of the adaptable utility's statistics as 8 scalar chains). Each lane adds its row in the same order,
    /// so the results are the same bits.
    /// </summary>
    private static void SumAbsRows(float* rows, int fanIn, int count, float* result)
    {
        int q = 0;
        if (Avx.IsSupported)
        {
            for (; q + 16 <= count; q += 16) SumAbsRowsAvx(rows + (long)q * fanIn, fanIn, 2, result + q);
            for (; q + 8 <= count; q += 8) SumAbsRowsAvx(rows + (long)q * fanIn, fanIn, 1, result + q);
        }
        for (; q < count; q++)
        {
            float* row = rows + (long)q * fanIn;
            float sum = 0f;
            for (int j = 0; j < fanIn; j++) sum += Math.Abs(row[j]);
            result[q] = sum;
        }
    }

    // 8 x groups rows: lane q of acc[g] sums row 8g + q, 8 columns at a time, then the last fanIn % 8 columns one by one.
    private static void SumAbsRowsAvx(float* rows, int fanIn, int groups, float* result)
    {
        var a = Vector256<float>.Zero;
        var b = Vector256<float>.Zero;
        float* second = rows + 8L * fanIn;
        int j = 0;
        for (; j + 8 <= fanIn; j += 8)
        {
            AddAbsColumns(ref a, rows + j, fanIn);
            if (groups == 2) AddAbsColumns(ref b, second + j, fanIn);
        }
        float* sums = stackalloc float[16];
        a.Store(sums);
        b.Store(sums + 8);
        for (int q = 0; q < 8 * groups; q++)
        {
            float* row = rows + (long)q * fanIn;
            float sum = sums[q];
            for (int k = j; k < fanIn; k++) sum += Math.Abs(row[k]);
            result[q] = sum;
        }
    }

    // acc[q] += |r_q[0]|, then += |r_q[1]|, ... += |r_q[7]| for the 8 rows r_q = r + q * stride: an 8 x 8 transpose.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddAbsColumns(ref Vector256<float> acc, float* r, int stride)
    {
        var r0 = Vector256.Abs(Avx.LoadVector256(r));
        var r1 = Vector256.Abs(Avx.LoadVector256(r + stride));
        var r2 = Vector256.Abs(Avx.LoadVector256(r + 2 * stride));
        var r3 = Vector256.Abs(Avx.LoadVector256(r + 3 * stride));
        var r4 = Vector256.Abs(Avx.LoadVector256(r + 4 * stride));
        var r5 = Vector256.Abs(Avx.LoadVector256(r + 5 * stride));
        var r6 = Vector256.Abs(Avx.LoadVector256(r + 6 * stride));
        var r7 = Vector256.Abs(Avx.LoadVector256(r + 7 * stride));
        // Per 128-bit half: t0 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5], t1 = columns 2, 3 | 6, 7; and so on.
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        // u0 = column 0 of rows 0-3 | column 4 of rows 0-3; u1 columns 1 | 5, u2 2 | 6, u3 3 | 7; u4-u7 the same for rows 4-7.
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        acc += Avx.Permute2x128(u0, u4, 0x20);
        acc += Avx.Permute2x128(u1, u5, 0x20);
        acc += Avx.Permute2x128(u2, u6, 0x20);
        acc += Avx.Permute2x128(u3, u7, 0x20);
        acc += Avx.Permute2x128(u0, u4, 0x31);
        acc += Avx.Permute2x128(u1, u5, 0x31);
        acc += Avx.Permute2x128(u2, u6, 0x31);
        acc += Avx.Permute2x128(u3, u7, 0x31);
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
