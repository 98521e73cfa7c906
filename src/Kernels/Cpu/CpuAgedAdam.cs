using System.Numerics;

namespace CbpGpu.Kernels;

/// <summary>
/// Aged Adam on the CPU: <see cref="AgedAdamMath"/> in a plain parallel loop over the flat
/// buffers, a SIMD register of elements at a time (ILGPU 1.5.3's CPU accelerator is a debugging
/// simulator, far too slow for this). Lane arithmetic rounds like the scalar kernels, so the
/// results are bit-identical to the ILGPU kernels.
/// Parameters and gradients are views of memory the caller owns (TorchSharp tensors); the
/// moments and counters live in native buffers owned here.
/// </summary>
public sealed unsafe class CpuAgedAdam : IAgedAdam
{
    private const int MinChunk = 16 * 1024;
    private readonly NativeView<float> _parameters;
    private readonly NativeView<float> _gradients;
    private readonly NativeBuffer<float> _m;
    private readonly NativeBuffer<float> _v;
    private readonly NativeBuffer<int> _t;
    private readonly NativeBuffer<float> _inverseBias1;
    private readonly NativeBuffer<float> _sqrtBias2;
    private readonly ParallelChunks _chunks;
    private readonly Action<int> _stepChunk;
    private readonly AdamScalars _scalars;

    public CpuAgedAdam(NativeView<float> parameters, NativeView<float> gradients, AdamSettings hyperparameters, int maxDegreeOfParallelism = 0)
    {
        hyperparameters.Validate();
        if (parameters.Length != gradients.Length)
            throw new ArgumentException($"{parameters.Length} parameters but {gradients.Length} gradients.");
        _parameters = parameters;
        _gradients = gradients;
        _m = new NativeBuffer<float>(parameters.Length);
        _v = new NativeBuffer<float>(parameters.Length);
        _t = new NativeBuffer<int>(parameters.Length);
        int tableLength = Math.Max(
            BiasCorrectionTable.LengthFor(hyperparameters.Beta1), BiasCorrectionTable.LengthFor(hyperparameters.Beta2));
        _inverseBias1 = Copy(BiasCorrectionTable.Inverse(hyperparameters.Beta1, tableLength));
        _sqrtBias2 = Copy(BiasCorrectionTable.SquareRoot(hyperparameters.Beta2, tableLength));
        _scalars = AdamScalars.From(hyperparameters, tableLength - 1);
        _chunks = new ParallelChunks(parameters.Length, MinChunk, maxDegreeOfParallelism);
        _stepChunk = StepChunk;
    }

    public int Length => _parameters.Length;

    /// <summary>First moments; the CBP kernels zero entries of replaced weights.</summary>
    internal NativeView<float> M => _m.View;

    internal NativeView<float> V => _v.View;

    internal NativeView<int> T => _t.View;

    public void Step() => _chunks.Run(_stepChunk);

    private void StepChunk(int chunk)
    {
        float* theta = _parameters.Pointer, grad = _gradients.Pointer, m = _m.View.Pointer, v = _v.View.Pointer;
        int* t = _t.View.Pointer;
        float* inverseBias1 = _inverseBias1.View.Pointer, sqrtBias2 = _sqrtBias2.View.Pointer;
        var s = _scalars;
        int i = _chunks.Start(chunk), end = _chunks.End(chunk);
        int width = Vector<float>.Count;
        var last = new Vector<int>(s.LastTableIndex);
        Span<float> gathered1 = stackalloc float[width];
        Span<float> gathered2 = stackalloc float[width];
        for (; i + width <= end; i += width)
        {
            var steps = Vector.Load(t + i);
            var k = AgedAdamMath.AdvanceSteps(ref steps, last);
            steps.Store(t + i);
            SimdLanes b1, b2;
            int k0 = k[0];
            if (k == new Vector<int>(k0))
            {
                // The usual case: neighbouring weights share their step count.
                b1 = SimdLanes.Broadcast(inverseBias1[k0]);
                b2 = SimdLanes.Broadcast(sqrtBias2[k0]);
            }
            else
            {
                for (int lane = 0; lane < width; lane++)
                {
                    gathered1[lane] = inverseBias1[k[lane]];
                    gathered2[lane] = sqrtBias2[k[lane]];
                }
                b1 = new SimdLanes(new Vector<float>(gathered1));
                b2 = new SimdLanes(new Vector<float>(gathered2));
            }
            var mi = new SimdLanes(Vector.Load(m + i));
            var vi = new SimdLanes(Vector.Load(v + i));
            var updated = AgedAdamMath.Update(new SimdLanes(Vector.Load(theta + i)), new SimdLanes(Vector.Load(grad + i)), ref mi, ref vi, b1, b2, s);
            updated.Value.Store(theta + i);
            mi.Value.Store(m + i);
            vi.Value.Store(v + i);
        }
        for (; i < end; i++)
        {
            int k = AgedAdamMath.AdvanceStep(ref t[i], s.LastTableIndex);
            theta[i] = AgedAdamMath.Update(theta[i], grad[i], ref m[i], ref v[i], inverseBias1[k], sqrtBias2[k], s);
        }
    }

    public void ReadState(Span<float> m, Span<float> v, Span<int> t)
    {
        _m.Span.CopyTo(m);
        _v.Span.CopyTo(v);
        _t.Span.CopyTo(t);
    }

    public void WriteState(ReadOnlySpan<float> m, ReadOnlySpan<float> v, ReadOnlySpan<int> t)
    {
        CheckLength(m.Length, v.Length, t.Length);
        m.CopyTo(_m.Span);
        v.CopyTo(_v.Span);
        t.CopyTo(_t.Span);
    }

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
        _t.Dispose();
        _inverseBias1.Dispose();
        _sqrtBias2.Dispose();
    }

    private void CheckLength(int m, int v, int t)
    {
        if (m != Length || v != Length || t != Length)
            throw new ArgumentException($"Optimizer state of {Length} parameters expected, got m {m}, v {v}, t {t}.");
    }

    private static NativeBuffer<float> Copy(float[] values)
    {
        var buffer = new NativeBuffer<float>(values.Length);
        values.CopyTo(buffer.Span);
        return buffer;
    }
}
