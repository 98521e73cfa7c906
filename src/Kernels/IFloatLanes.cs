namespace CbpGpu.Kernels;

/// <summary>
/// The arithmetic the per-element math needs, over one float (<see cref="OneLane"/>, what GPU
/// threads and scalar loops use) or over a SIMD register of floats (<see cref="SimdLanes"/>, the
/// CPU loops). The math is written once, generically over this interface; ILGPU compiles it for a
/// kernel with OneLane (static abstract members resolve at compile time), and every lane operation
/// is IEEE-rounded like its scalar twin, so all backends give bit-identical results.
/// </summary>
public interface IFloatLanes<TSelf> where TSelf : struct, IFloatLanes<TSelf>
{
    static abstract TSelf Broadcast(float value);

    static abstract TSelf operator +(TSelf a, TSelf b);

    static abstract TSelf operator -(TSelf a, TSelf b);

    static abstract TSelf operator *(TSelf a, TSelf b);

    static abstract TSelf operator /(TSelf a, TSelf b);

    static abstract TSelf Sqrt(TSelf x);
}
