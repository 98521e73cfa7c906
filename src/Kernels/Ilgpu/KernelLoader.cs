using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;

namespace CbpGpu.Kernels;

/// <summary>
/// Loads the kernels so that CUDA rounds as the CPU loops do (src/Kernels/MEMORY.md#numbers-on-cuda). ILGPU 1.5.3 writes
/// float add, sub and mul without a rounding modifier, and ptxas may then fuse a multiply and an add into one FMA
/// (one rounding instead of two); on an H200 that left 98k of 191k parameters off by an ulp or more after 300 aged-Adam
/// + CBP steps, and CBP's choices of units apart. PTX never contracts an instruction that names its rounding, so the
/// CUDA kernels load from PTX with <c>.rn</c> written on each of them: what each line computes is unchanged (round to
/// nearest even is the default), only the fusing is gone. Other accelerators (ILGPU's CPU simulator) load as usual.
/// </summary>
public static class KernelLoader
{
    private static readonly Regex Contractible = new(@"\b(add|sub|mul)\.f(32|64)\b", RegexOptions.CultureInvariant);

    /// <summary>PTX with every plain float add, sub and mul given its default rounding, <c>.rn</c>, explicitly.</summary>
    public static string WithoutContraction(string ptx) => Contractible.Replace(ptx, "$1.rn.f$2");

    /// <summary>
    /// The auto-grouped launcher of the static kernel <paramref name="kernel"/>; <typeparamref name="TLauncher"/> is
    /// <c>Action&lt;AcceleratorStream, Index1D, ...the kernel's other parameters&gt;</c>.
    /// </summary>
    public static TLauncher Load<TLauncher>(Accelerator accelerator, MethodInfo kernel) where TLauncher : Delegate
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        var entry = EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        var compiled = accelerator.CompileKernel(entry);
        if (compiled is PTXCompiledKernel ptx)
            compiled = WithPtx(ptx, WithoutContraction(ptx.PTXAssembly));
        return accelerator.LoadAutoGroupedKernel(compiled).CreateLauncherDelegate<TLauncher>();
    }

    /// <summary>The kernel named <paramref name="name"/> of <paramref name="type"/>, for <see cref="Load"/>.</summary>
    public static MethodInfo Kernel(Type type, string name) =>
        type.GetMethod(name, BindingFlags.Public | BindingFlags.Static)
        ?? throw new InvalidOperationException($"no public static kernel {type.Name}.{name}");

    /// <summary>
    /// The same kernel, entry point and information with other PTX text (PTXCompiledKernel's constructor and its entry
    /// point are internal in ILGPU 1.5.3, hence reflection; tests/Kernels/PtxCompilationTests.cs holds it to this version).
    /// </summary>
    public static PTXCompiledKernel WithPtx(PTXCompiledKernel kernel, string ptx)
    {
        const BindingFlags Internal = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
        object entryPoint = typeof(CompiledKernel).GetProperty("EntryPoint", Internal)?.GetValue(kernel)
            ?? throw new InvalidOperationException("ILGPU's CompiledKernel has no EntryPoint to rebuild the kernel with new PTX");
        return (PTXCompiledKernel?)Activator.CreateInstance(typeof(PTXCompiledKernel), Internal, binder: null,
                [kernel.Context, entryPoint, kernel.Info, ptx], culture: null)
            ?? throw new InvalidOperationException("ILGPU's PTXCompiledKernel could not be rebuilt with new PTX");
    }
}
