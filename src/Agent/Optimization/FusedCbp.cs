using System.Runtime.InteropServices;
using CbpGpu.Kernels;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// Continual Backprop (SPEC §4) after every optimizer step, with the statistics and replacements
/// fused into a few passes over the flat parameter tensor, on the same backend as the given
/// <see cref="FusedAgedAdam"/> (whose moments it zeroes when the settings say so). Members mirror
/// the Agent's IAfterStepHook.
/// </summary>
public sealed class FusedCbp : IDisposable
{
    private const string Magic = "cbpgpu.cbp";
    private const int Version = 1;

    /// <param name="layers">The hidden layers in network order (policy h1, h2, value h1, h2).</param>
    /// <param name="seed">Seeds the replacement decisions and the fresh weights.</param>
    public FusedCbp(FusedAgedAdam optimizer, IReadOnlyList<HiddenLayerLayout> layers, CbpSettings settings, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Kernels = optimizer.Accelerator is null
            ? new CpuCbpKernels(optimizer.Parameters, layers, settings, (CpuAgedAdam)optimizer.Engine)
            : new IlgpuCbpKernels(optimizer.Accelerator, optimizer.ParameterView, layers, settings, (IlgpuAgedAdam)optimizer.Engine);
        Engine = new ContinualBackprop(Kernels, new SplitMix64(seed));
    }

    public ICbpKernels Kernels { get; }

    public ContinualBackprop Engine { get; }

    /// <summary>
    /// Generate-and-test from this minibatch's post-ReLU activations, one [batch x units] tensor per
    /// hidden layer in layer order. Returns the number of units replaced.
    /// </summary>
    public int AfterStep(IReadOnlyList<Tensor> activations)
    {
        if (activations.Count != Kernels.Layers.Count)
            throw new ArgumentException($"{activations.Count} activation tensors for {Kernels.Layers.Count} hidden layers.");
        for (int l = 0; l < activations.Count; l++)
        {
            var h = activations[l];
            if (h.ndim != 2 || h.shape[1] != Kernels.Layers[l].Units)
                throw new ArgumentException($"Activations of layer {l} have shape [{string.Join(", ", h.shape)}], expected [batch, {Kernels.Layers[l].Units}].");
            var view = TensorMemory.Of(h, $"the activations of hidden layer {l}");
            Engine.Observe(l, view.AsSpan(), (int)h.shape[0]);
        }
        return Engine.GenerateAndTest();
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(Engine.Chooser.Random.State);
        writer.Write(Kernels.Layers.Count);
        for (int l = 0; l < Kernels.Layers.Count; l++)
        {
            int n = Kernels.Layers[l].Units;
            var age = new int[n];
            var f = new float[n];
            var u = new float[n];
            Kernels.ReadUnitState(l, age, f, u);
            writer.Write(n);
            writer.Write(Engine.Chooser.Accumulated[l]);
            writer.Write(MemoryMarshal.AsBytes(age.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(f.AsSpan()));
            writer.Write(MemoryMarshal.AsBytes(u.AsSpan()));
        }
    }

    public void Load(BinaryReader reader)
    {
        try
        {
            if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
                throw new InvalidDataException("not a CBP state (wrong header)");
            ulong random = reader.ReadUInt64();
            int layers = reader.ReadInt32();
            if (layers != Kernels.Layers.Count)
                throw new InvalidDataException($"CBP state of {layers} hidden layers does not fit these networks' {Kernels.Layers.Count}");
            for (int l = 0; l < layers; l++)
            {
                int n = reader.ReadInt32();
                if (n != Kernels.Layers[l].Units)
                    throw new InvalidDataException($"CBP state of hidden layer {l} has {n} units, the network {Kernels.Layers[l].Units}");
                Engine.Chooser.Accumulated[l] = reader.ReadDouble();
                var age = new int[n];
                var f = new float[n];
                var u = new float[n];
                ReadExactly(reader, MemoryMarshal.AsBytes(age.AsSpan()));
                ReadExactly(reader, MemoryMarshal.AsBytes(f.AsSpan()));
                ReadExactly(reader, MemoryMarshal.AsBytes(u.AsSpan()));
                Kernels.WriteUnitState(l, age, f, u);
            }
            Engine.Chooser.Random.State = random;
            Engine.ReloadAges();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("CBP state is truncated", e);
        }
    }

    public void Dispose() => Kernels.Dispose();

    private static void ReadExactly(BinaryReader reader, Span<byte> destination)
    {
        while (destination.Length > 0)
        {
            int read = reader.Read(destination);
            if (read == 0) throw new EndOfStreamException();
            destination = destination[read..];
        }
    }
}
