using System.Reflection;
using CbpGpu.Kernels;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace CbpGpu.Tests.Kernels;

/// <summary>
/// ILGPU's CPU accelerator runs a kernel's .NET code directly, so it never sends the kernels
/// through ILGPU's own compiler. This compiles every kernel to PTX for the H100/H200 (sm_90)
/// through ILGPU's PTX backend, which needs no GPU, so code the CUDA path cannot handle fails here.
/// </summary>
public class PtxCompilationTests
{
    public static TheoryData<string> Kernels() =>
    [
        nameof(AgedAdamKernel) + "." + nameof(AgedAdamKernel.Run),
        nameof(CbpStatisticsKernel) + "." + nameof(CbpStatisticsKernel.Run),
        nameof(CbpReplacementKernels) + "." + nameof(CbpReplacementKernels.Incoming),
        nameof(CbpReplacementKernels) + "." + nameof(CbpReplacementKernels.Outgoing),
    ];

    [Theory]
    [MemberData(nameof(Kernels))]
    public void KernelCompilesToPtxForSm90(string kernel)
    {
        string[] parts = kernel.Split('.');
        var type = typeof(AgedAdamKernel).Assembly.GetType("CbpGpu.Kernels." + parts[0])!;
        var method = type.GetMethod(parts[1], BindingFlags.Public | BindingFlags.Static)!;
        using var context = Context.Create(builder => builder.Optimize(OptimizationLevel.O1));
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_88, null!);
        var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(method), default(KernelSpecialization));
        string ptx = compiled.PTXAssembly;
        // ILGPU targets the lowest architecture its capabilities need (sm_80 for sm_90 devices); the driver JITs it.
        var target = System.Text.RegularExpressions.Regex.Match(ptx, @"\.target sm_(\d+)");
        Assert.True(target.Success, "no .target line in the PTX");
        Assert.InRange(int.Parse(target.Groups[1].Value), 50, 90);
        Assert.Contains(".visible .entry", ptx);
        if (parts[0] == nameof(AgedAdamKernel))
        {
            // IEEE square root and division, as on the CPU, not the approximate forms.
            Assert.Contains("sqrt.rn.f32", ptx);
            Assert.Contains("div.rn.f32", ptx);
        }
    }
}
