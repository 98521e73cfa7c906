namespace CbpGpu.Kernels;

/// <summary>The flat parameters and gradients a backend's kernels run over, on the device its kind names.</summary>
/// <param name="DeviceIndex">The CUDA device's ordinal for a "cuda" backend (libtorch's cuda:N); 0 on the CPU.</param>
public readonly record struct KernelMemory(NativeView<float> Parameters, NativeView<float> Gradients, int DeviceIndex);

/// <summary>One kind of <see cref="IKernelBackend"/>, declared by the backend's own file (<see cref="KernelBackends.Register"/>).</summary>
public sealed class KernelBackendKind
{
    /// <summary>"cpu-loops", "ilgpu-cpu", "cuda".</summary>
    public required string Name { get; init; }

    /// <summary>Where the tensors it reads live, as torch names the device type: "cpu" or "cuda".</summary>
    public required string Device { get; init; }

    /// <summary>The backend a run on <see cref="Device"/> takes for the fused kernels (one per device).</summary>
    public bool IsDeviceDefault { get; init; }

    public required string Summary { get; init; }

    /// <summary>A backend over this memory; it owns whatever it makes (an accelerator, a context) and frees it on disposal.</summary>
    public required Func<KernelMemory, IKernelBackend> Create { get; init; }

    public override string ToString() => Name;
}

/// <summary>
/// The kernel backends, each declared by its own file when this assembly loads; a run takes the default one of its
/// device (docs/extending.md#kernel-backends).
/// </summary>
public static class KernelBackends
{
    private static readonly List<KernelBackendKind> Kinds = [];

    public static void Register(KernelBackendKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        lock (Kinds)
        {
            if (Kinds.Any(k => k.Name == kind.Name))
                throw new InvalidOperationException($"a kernel backend named {kind.Name} is already registered");
            if (kind.IsDeviceDefault && Kinds.Any(k => k.IsDeviceDefault && k.Device == kind.Device))
                throw new InvalidOperationException($"device {kind.Device} already has a default kernel backend");
            Kinds.Add(kind);
        }
    }

    public static KernelBackendKind Get(string name) =>
        Kinds.FirstOrDefault(k => k.Name == name)
        ?? throw new ArgumentException($"no kernel backend named {name}; known: {string.Join(", ", Kinds.Select(k => k.Name))}", nameof(name));

    /// <summary>The fused kernels' backend of a run on <paramref name="device"/> ("cpu", "cuda").</summary>
    public static KernelBackendKind ForDevice(string device) =>
        Kinds.FirstOrDefault(k => k.IsDeviceDefault && k.Device == device)
        ?? throw new ArgumentException($"no kernel backend runs on device {device}; devices: {string.Join(", ", Kinds.Where(k => k.IsDeviceDefault).Select(k => k.Device))}", nameof(device));
}
