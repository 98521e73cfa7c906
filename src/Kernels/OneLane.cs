namespace CbpGpu.Kernels;

/// <summary>One float as <see cref="IFloatLanes{TSelf}"/>: kernels and scalar loop tails.</summary>
public readonly struct OneLane(float value) : IFloatLanes<OneLane>
{
    public float Value { get; } = value;

    public static OneLane Broadcast(float value) => new(value);

    public static OneLane operator +(OneLane a, OneLane b) => new(a.Value + b.Value);

    public static OneLane operator -(OneLane a, OneLane b) => new(a.Value - b.Value);

    public static OneLane operator *(OneLane a, OneLane b) => new(a.Value * b.Value);

    public static OneLane operator /(OneLane a, OneLane b) => new(a.Value / b.Value);

    public static OneLane Sqrt(OneLane x) => new(MathF.Sqrt(x.Value));
}
