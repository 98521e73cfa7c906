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
        // What the CUDA backend loads (KernelLoader): every float add, sub and mul with its rounding named, so that ptxas
        // fuses none of them into an FMA; integer arithmetic and everything else as ILGPU wrote it.
        string exact = KernelLoader.WithoutContraction(ptx);
        var floatOps = new System.Text.RegularExpressions.Regex(@"\b(add|sub|mul)\.(rn\.)?f32\b");
        Assert.True(floatOps.Matches(ptx).Count > 0, "no float arithmetic found in the PTX");
        Assert.Equal(floatOps.Matches(ptx).Count, System.Text.RegularExpressions.Regex.Matches(exact, @"\b(add|sub|mul)\.rn\.f32\b").Count);
        Assert.DoesNotMatch(@"\b(add|sub|mul)\.f(32|64)\b", exact);
        Assert.Equal(System.Text.RegularExpressions.Regex.Replace(exact, @"\.rn\.f", ".f"), System.Text.RegularExpressions.Regex.Replace(ptx, @"\.rn\.f", ".f"));
        var rebuilt = KernelLoader.WithPtx(compiled, exact);
        Assert.Equal(exact, rebuilt.PTXAssembly);
        Assert.Equal(compiled.Name, rebuilt.Name);
        Assert.Equal(compiled.NumParameters, rebuilt.NumParameters);
        Assert.Same(compiled.Info, rebuilt.Info);
        if (parts[0] == nameof(AgedAdamKernel))
        {
            // IEEE square root and division, as on the CPU, not the approximate forms.
            Assert.Contains("sqrt.rn.f32", ptx);
            Assert.Contains("div.rn.f32", ptx);
        }
    }

    [Fact]
    public void WithoutContractionNamesTheRoundingOfFloatAddSubMulOnly()
    {
        const string ptx = "add.f32 %f3, %f1, %f2;\n\tmul.f32 %f4, %f3, %f3;\n\tsub.f64 %fd1, %fd2, %fd3;\n\tadd.s32 %r1, %r2, 1;\n" +
            "\tmul.lo.s32 %r3, %r1, 4;\n\tmul.wide.s32 %rd1, %r3, 4;\n\tdiv.rn.f32 %f5, %f4, %f1;\n\tfma.rn.f32 %f6, %f1, %f2, %f3;\n\tadd.rn.f32 %f7, %f6, %f6;";
        Assert.Equal("add.rn.f32 %f3, %f1, %f2;\n\tmul.rn.f32 %f4, %f3, %f3;\n\tsub.rn.f64 %fd1, %fd2, %fd3;\n\tadd.s32 %r1, %r2, 1;\n" +
            "\tmul.lo.s32 %r3, %r1, 4;\n\tmul.wide.s32 %rd1, %r3, 4;\n\tdiv.rn.f32 %f5, %f4, %f1;\n\tfma.rn.f32 %f6, %f1, %f2, %f3;\n\tadd.rn.f32 %f7, %f6, %f6;",
            KernelLoader.WithoutContraction(ptx));
    }
}
