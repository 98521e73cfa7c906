using System.Numerics;

namespace CbpGpu.Kernels;

/// <summary>A SIMD register of floats (<see cref="Vector{T}"/>) as <see cref="IFloatLanes{TSelf}"/>: the CPU loops.</summary>
public readonly struct SimdLanes(Vector<float> value) : IFloatLanes<SimdLanes>
{
    public Vector<float> Value { get; } = value;

    public static SimdLanes Broadcast(float value) => new(new Vector<float>(value));

    public static SimdLanes operator +(SimdLanes a, SimdLanes b) => new(a.Value + b.Value);

    public static SimdLanes operator -(SimdLanes a, SimdLanes b) => new(a.Value - b.Value);

    public static SimdLanes operator *(SimdLanes a, SimdLanes b) => new(a.Value * b.Value);

    public static SimdLanes operator /(SimdLanes a, SimdLanes b) => new(a.Value / b.Value);

    public static SimdLanes Sqrt(SimdLanes x) => new(Vector.SquareRoot(x.Value));
}
