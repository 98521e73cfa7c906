using CbpGpu.Agent;

namespace CbpGpu.Tests.Kernels;

/// <summary>
/// An optimizer's or a CBP's saved payload read back field by field (the format the fused and the naive
/// implementations share), so tests compare what a checkpoint would hold.
/// </summary>
internal static class OptimizerState
{
    public static (float[] M, float[] V, int[] T) ReadAdam(IParameterOptimizer optimizer)
    {
        using var reader = Saved(optimizer.Save);
        int n = reader.ReadInt32();
        var m = new float[n];
        var v = new float[n];
        var t = new int[n];
        for (int i = 0; i < n; i++) m[i] = reader.ReadSingle();
        for (int i = 0; i < n; i++) v[i] = reader.ReadSingle();
        for (int i = 0; i < n; i++) t[i] = reader.ReadInt32();
        return (m, v, t);
    }

    public sealed record Layer(double Accumulated, int[] Age, float[] F, float[] U);

    public static (ulong Random, Layer[] Layers) ReadCbp(IContinualBackprop cbp)
    {
        using var reader = Saved(cbp.Save);
        ulong random = reader.ReadUInt64();
        var layers = new Layer[reader.ReadInt32()];
        for (int l = 0; l < layers.Length; l++)
        {
            int n = reader.ReadInt32();
            var layer = new Layer(reader.ReadDouble(), new int[n], new float[n], new float[n]);
            for (int i = 0; i < n; i++) layer.Age[i] = reader.ReadInt32();
            for (int i = 0; i < n; i++) layer.F[i] = reader.ReadSingle();
            for (int i = 0; i < n; i++) layer.U[i] = reader.ReadSingle();
            layers[l] = layer;
        }
        return (random, layers);
    }

    public static byte[] Bytes(Action<BinaryWriter> save)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) save(writer);
        return stream.ToArray();
    }

    private static BinaryReader Saved(Action<BinaryWriter> save) => new(new MemoryStream(Bytes(save)));
}
