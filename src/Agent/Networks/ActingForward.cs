using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CbpGpu.Agent.Networks;

/// <summary>
/// The acting forward pass (docs/ppo.md#acting-forward): the policy and value networks of <see cref="ActorCritic"/> for
/// the rollout's few rows, fused into plain CPU SIMD loops over the flat parameters, the Gaussian sample and its
/// log-probability included; no tensor, no allocation, no framework call per step. The update keeps TorchSharp.
/// Each output is one fixed sequence of float32 operations (a dot product in 8 lanes of fused multiply-adds over the
/// input's first multiple of 8, the lanes summed in a fixed tree, the rest added by scalar fused multiply-adds, then
/// the bias), the same for every row whatever the number of rows and whatever the CPU: Vector256 and MathF's fused
/// multiply-add are exact with or without FMA hardware, and exp/tanh are taken in float64 and rounded once.
/// </summary>
public sealed class ActingForward
{
    private static readonly float HalfLog2Pi = (float)(0.5 * Math.Log(2 * Math.PI));

    private readonly ParameterLayout _layout;
    private readonly Activation _activation;
    private readonly float[] _valueH1, _valueH2, _std, _logStd;

    /// <param name="maxRows">The most rows one call will pass (the rollout's envs).</param>
    public ActingForward(ParameterLayout layout, Activation activation, int maxRows)
    {
        _layout = layout;
        _activation = activation;
        _valueH1 = new float[maxRows * layout.HiddenUnits];
        _valueH2 = new float[maxRows * layout.HiddenUnits];
        _std = new float[layout.ActionSize];
        _logStd = new float[layout.ActionSize];
    }

    public ParameterLayout Layout => _layout;

    public Activation Activation => _activation;

    /// <summary>
    /// The policy on <paramref name="rows"/> observations [rows x ObservationSize]: its hidden activations (after the
    /// nonlinearity) into <paramref name="h1"/>, <paramref name="h2"/> [rows x H]; the action mean + exp(log_std) *
    /// <paramref name="noise"/> [rows x A] into <paramref name="actions"/>, and its log-probability (docs/ppo.md#gaussian-policy)
    /// into <paramref name="logProbs"/> [rows].
    /// </summary>
    public void Policy(ReadOnlySpan<float> parameters, ReadOnlySpan<float> observations, int rows, ReadOnlySpan<float> noise,
        Span<float> actions, Span<float> logProbs, Span<float> h1, Span<float> h2)
    {
        var l = _layout;
        int h = l.HiddenUnits, a = l.ActionSize;
        CheckRows(parameters, observations, rows);
        if (noise.Length < rows * a || actions.Length < rows * a || logProbs.Length < rows || h1.Length < rows * h || h2.Length < rows * h)
            throw new ArgumentException($"acting buffers hold fewer than {rows} rows");
        Linear(parameters, l.PolicyW1, l.PolicyB1, observations, rows, h1, _activation);
        Linear(parameters, l.PolicyW2, l.PolicyB2, h1, rows, h2, _activation);
        Linear(parameters, l.PolicyW3, l.PolicyB3, h2, rows, actions, activation: null);   // the means, sampled in place below

        var logStd = parameters.Slice((int)l.LogStd.Offset, a);
        for (int k = 0; k < a; k++)
        {
            _logStd[k] = logStd[k];
            _std[k] = (float)Math.Exp(logStd[k]);
        }
        for (int r = 0; r < rows; r++)
        {
            var row = actions.Slice(r * a, a);
            var z = noise.Slice(r * a, a);
            float sum = 0;
            for (int k = 0; k < a; k++)
            {
                row[k] += _std[k] * z[k];   // mean + std * noise: a product, then a sum (no fused multiply-add)
                // log N(a; mean, std) = -z^2 / 2 - log std - log(2 pi) / 2, with z = (a - mean) / std = noise.
                sum += -0.5f * (z[k] * z[k]) - _logStd[k] - HalfLog2Pi;
            }
            logProbs[r] = sum;
        }
    }

    /// <summary>V(s) of <paramref name="rows"/> observations [rows x ObservationSize] into <paramref name="values"/> [rows].</summary>
    public void Value(ReadOnlySpan<float> parameters, ReadOnlySpan<float> observations, int rows, Span<float> values)
    {
        var l = _layout;
        int h = l.HiddenUnits;
        CheckRows(parameters, observations, rows);
        if (rows * h > _valueH1.Length || values.Length < rows)
            throw new ArgumentException($"{rows} rows, the acting forward was built for {_valueH1.Length / h}");
        Linear(parameters, l.ValueW1, l.ValueB1, observations, rows, _valueH1, _activation);
        Linear(parameters, l.ValueW2, l.ValueB2, _valueH1, rows, _valueH2, _activation);
        Linear(parameters, l.ValueW3, l.ValueB3, _valueH2, rows, values, activation: null);
    }

    private void CheckRows(ReadOnlySpan<float> parameters, ReadOnlySpan<float> observations, int rows)
    {
        if (parameters.Length != _layout.TotalSize)
            throw new ArgumentException($"{parameters.Length} parameters, the layout has {_layout.TotalSize}");
        if (rows < 0 || observations.Length < rows * _layout.ObservationSize)
            throw new ArgumentException($"{observations.Length} observation values for {rows} rows of {_layout.ObservationSize}");
    }

    /// <summary>
    /// y[r, i] = act(W[i, :] . x[r, :] + b[i]) for W [outputs x inputs] row-major at <paramref name="weight"/>'s offset:
    /// four units at a time per row (four independent chains of fused multiply-adds sharing each load of x), each
    /// unit's arithmetic that of <see cref="Dot"/>.
    /// </summary>
    private static void Linear(ReadOnlySpan<float> parameters, ParameterSlice weight, ParameterSlice bias,
        ReadOnlySpan<float> x, int rows, Span<float> y, Activation? activation)
    {
        int outputs = (int)weight.Shape[0], inputs = (int)weight.Shape[1];
        // The loops below read x through unchecked references.
        if (x.Length < rows * inputs || y.Length < rows * outputs) throw new ArgumentException($"{weight.Name}: buffers hold fewer than {rows} rows");
        var w = parameters.Slice((int)weight.Offset, outputs * inputs);
        var b = parameters.Slice((int)bias.Offset, outputs);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        for (int r = 0; r < rows; r++)
        {
            ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), r * inputs);
            var yr = y.Slice(r * outputs, outputs);
            int i = 0;
            for (; i + 4 <= outputs; i += 4)
            {
                Dot4(ref Unsafe.Add(ref w0, i * inputs), inputs, ref xr, out float s0, out float s1, out float s2, out float s3);
                yr[i] = Activate(s0 + b[i], activation);
                yr[i + 1] = Activate(s1 + b[i + 1], activation);
                yr[i + 2] = Activate(s2 + b[i + 2], activation);
                yr[i + 3] = Activate(s3 + b[i + 3], activation);
            }
            for (; i < outputs; i++)
                yr[i] = Activate(Dot(ref Unsafe.Add(ref w0, i * inputs), inputs, ref xr) + b[i], activation);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Activate(float x, Activation? activation) => activation switch
    {
        null => x,
        Activation.Relu => MathF.Max(x, 0f),   // NaN stays NaN, as torch's relu
        _ => (float)Math.Tanh(x),
    };

    /// <summary>w . x over n elements: the arithmetic every output of the acting forward uses.</summary>
    private static float Dot(ref float w, int n, ref float x)
    {
        var acc = Vector256<float>.Zero;
        int k = 0;
        for (; k + 8 <= n; k += 8)
            acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)k), Vector256.LoadUnsafe(ref x, (nuint)k), acc);
        float s = Sum(acc);
        for (; k < n; k++) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref w, k), Unsafe.Add(ref x, k), s);
        return s;
    }

    /// <summary><see cref="Dot"/> of four consecutive rows of W (stride n) with the same x, operation for operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4(ref float w, int n, ref float x, out float s0, out float s1, out float s2, out float s3)
    {
        ref float w1 = ref Unsafe.Add(ref w, n);
        ref float w2 = ref Unsafe.Add(ref w, 2 * n);
        ref float w3 = ref Unsafe.Add(ref w, 3 * n);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int k = 0;
        for (; k + 8 <= n; k += 8)
        {
            var xk = Vector256.LoadUnsafe(ref x, (nuint)k);
            a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w, (nuint)k), xk, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w1, (nuint)k), xk, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w2, (nuint)k), xk, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref w3, (nuint)k), xk, a3);
        }
        s0 = Sum(a0);
        s1 = Sum(a1);
        s2 = Sum(a2);
        s3 = Sum(a3);
        for (; k < n; k++)
        {
            float xk = Unsafe.Add(ref x, k);
            s0 = MathF.FusedMultiplyAdd(Unsafe.Add(ref w, k), xk, s0);
            s1 = MathF.FusedMultiplyAdd(Unsafe.Add(ref w1, k), xk, s1);
            s2 = MathF.FusedMultiplyAdd(Unsafe.Add(ref w2, k), xk, s2);
            s3 = MathF.FusedMultiplyAdd(Unsafe.Add(ref w3, k), xk, s3);
        }
    }

    /// <summary>The 8 lanes in a fixed tree: (l0 + l4) + (l2 + l6) + ((l1 + l5) + (l3 + l7)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum(Vector256<float> v)
    {
        var h = v.GetLower() + v.GetUpper();
        return (h.GetElement(0) + h.GetElement(2)) + (h.GetElement(1) + h.GetElement(3));
    }
}
