using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Agent.Optimization;

/// <summary>
/// The optimizer and a method's hook. <see cref="Create"/> is the one place that turns <see cref="OptimizerImpl"/> into
/// the optimizer and, with CBP, its Continual Backprop on the same implementation and kernel backend (which may reset the optimizer's
/// per-weight state); another method adds its hook with <see cref="With"/>.
/// </summary>
public sealed class OptimizerPair : IDisposable
{
    private readonly IKernelBackend? _backend;

    private OptimizerPair(IParameterOptimizer optimizer, IPlasticityHook? hook, IKernelBackend? backend)
    {
        Optimizer = optimizer;
        Hook = hook;
        _backend = backend;
    }

    public IParameterOptimizer Optimizer { get; }

    /// <summary>The method's work after each optimizer step and update; null for a method that is optimizer settings alone.</summary>
    public IPlasticityHook? Hook { get; }

    /// <summary>The hook as CBP (null for any other method).</summary>
    public IContinualBackprop? Cbp => Hook as IContinualBackprop;

    /// <summary>This optimizer with <paramref name="hook"/> (which this pair then disposes) in place of a hook it has none of.</summary>
    public OptimizerPair With(IPlasticityHook hook)
    {
        if (Hook is not null) throw new InvalidOperationException("this optimizer already has a hook");
        return new OptimizerPair(Optimizer, hook, _backend);
    }

    /// <summary>A method's own optimizer (an update rule other than the run's Adam) and its hook, which may be the same object.</summary>
    public static OptimizerPair Own(IParameterOptimizer optimizer, IPlasticityHook? hook) => new(optimizer, hook, null);

    /// <param name="cbp">CBP over <see cref="ParameterLayout.HiddenLayers"/>, or null for none.</param>
    /// <param name="cbpSeed">Seeds CBP's replacement decisions and fresh weights.</param>
    /// <param name="kernels">
    /// Where the fused kernels run (the run's choice, <see cref="MethodBuild.Kernels"/>); null takes the default backend of
    /// the device the parameters are on. Unused by the naive implementation.
    /// </param>
    public static OptimizerPair Create(FlatParameters parameters, AdamSettings adam, CbpSettings? cbp, OptimizerImpl impl, ulong cbpSeed,
        KernelBackendKind? kernels = null)
    {
        kernels ??= KernelBackends.ForDevice(TensorMemory.DeviceName(parameters.Data.device_type));
        return impl switch
        {
            OptimizerImpl.Fused => CreateFused(parameters, adam, cbp, cbpSeed, kernels.Device, kernels.Create),
            OptimizerImpl.Naive => CreateNaive(parameters, adam, cbp, cbpSeed),
            OptimizerImpl.Torch => CreateTorch(parameters, adam, cbp, cbpSeed, kernels.Device, kernels.Create),
            _ => throw new ArgumentOutOfRangeException(nameof(impl), impl, null),
        };
    }

    /// <summary>
    /// Aged Adam and CBP as fused kernels on the backend <paramref name="backendOver"/> makes over the flat parameter and
    /// gradient memory, which is on <paramref name="device"/>.
    /// </summary>
    internal static OptimizerPair CreateFused(FlatParameters parameters, AdamSettings adam, CbpSettings? cbp, ulong cbpSeed,
        string device, Func<KernelMemory, IKernelBackend> backendOver)
    {
        var backend = backendOver(TensorMemory.Of(parameters, device));
        try
        {
            var (engine, kernels) = backend.CreateAgedAdam(adam, parameters.Layout.HiddenLayers, cbp);
            return new OptimizerPair(
                new FusedAgedAdam(parameters, engine), kernels is null ? null : new FusedCbp(kernels, cbpSeed, device, parameters), backend);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    private static OptimizerPair CreateNaive(FlatParameters parameters, AdamSettings adam, CbpSettings? cbp, ulong cbpSeed)
    {
        var optimizer = new NaiveAgedAdam(parameters, adam);
        try
        {
            return new OptimizerPair(optimizer,
                cbp is null ? null : new NaiveCbp(parameters.Data, parameters.Layout.HiddenLayers, cbp, optimizer, cbpSeed), null);
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }

    /// <summary>TorchSharp's Adam keeps no per-weight step counters, so CBP runs on the kernel backend next to it without resetting any.</summary>
    private static OptimizerPair CreateTorch(FlatParameters parameters, AdamSettings adam, CbpSettings? cbp, ulong cbpSeed,
        string device, Func<KernelMemory, IKernelBackend> backendOver)
    {
        var optimizer = new TorchAdamOptimizer(parameters, adam);
        if (cbp is null) return new OptimizerPair(optimizer, null, null);
        IKernelBackend? backend = null;
        try
        {
            backend = backendOver(TensorMemory.Of(parameters, device));
            return new OptimizerPair(optimizer, new FusedCbp(backend.CreateCbp(parameters.Layout.HiddenLayers, cbp), cbpSeed, device, parameters), backend);
        }
        catch
        {
            optimizer.Dispose();
            backend?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Hook?.Dispose();
        Optimizer.Dispose();
        _backend?.Dispose();
    }
}
