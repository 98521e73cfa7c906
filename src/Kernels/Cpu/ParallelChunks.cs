namespace CbpGpu.Kernels;

/// <summary>
/// A fixed partition of [0, length) into a few contiguous chunks run with Parallel.For; the
/// body delegate is created once by its owner, so a run allocates nothing of its own.
/// </summary>
internal sealed class ParallelChunks
{
    private const int Alignment = 16; // floats per 64-byte cache line
    private readonly ParallelOptions _options;
    private readonly int _chunkSize;

    public ParallelChunks(int length, int minChunkLength, int maxDegreeOfParallelism)
    {
        int degree = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
        Length = length;
        Count = Math.Clamp(length / Math.Max(1, minChunkLength), 1, degree);
        int size = (length + Count - 1) / Count;
        _chunkSize = Math.Max(Alignment, (size + Alignment - 1) / Alignment * Alignment);
        Count = Math.Max(1, (length + _chunkSize - 1) / _chunkSize);
        _options = new ParallelOptions { MaxDegreeOfParallelism = degree };
    }

    public int Length { get; }

    public int Count { get; }

    public int Start(int chunk) => Math.Min(Length, chunk * _chunkSize);

    public int End(int chunk) => Math.Min(Length, (chunk + 1) * _chunkSize);

    public void Run(Action<int> body)
    {
        if (Count == 1) body(0);
        else Parallel.For(0, Count, _options, body);
    }
}
