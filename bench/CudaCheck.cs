using System.Diagnostics;
using CbpGpu.Kernels;

namespace CbpGpu.Bench;

/// <summary>
/// `cuda-check`: on a machine with a GPU, runs the same training-like sequence (aged Adam + CBP
/// with frequent replacements) through the CPU loops and through <see cref="CudaKernelBackend"/> over
/// device memory in the primary context (wrapped by address, as libtorch's tensors are), reports how far
/// they differ and how long a step takes. Exit code 0 when the results agree, 1 when not, 2 without CUDA.
/// </summary>
public static class CudaCheck
{
    /// <param name="args">[steps] [--simulator: ILGPU's CPU accelerator instead of CUDA, to try this code without a GPU]</param>
    public static int Run(string[] args)
    {
        bool simulator = args.Contains("--simulator");
        int steps = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(int.Parse).DefaultIfEmpty(300).First();
        var target = simulator ? KernelEngine.Target.IlgpuCpuSimulator : KernelEngine.Target.Cuda;
        if (!simulator && !CudaProbe.Available)
        {
            Console.WriteLine("cuda-check: no CUDA device found by ILGPU; nothing to check.");
            return 2;
        }
        bool ok = true;
        foreach (var utility in new[] { UtilityKind.Contribution, UtilityKind.AdaptableContribution })
            ok &= CompareRuns(target, width: 1, steps, utility);
        if (!simulator)
        {
            ok &= CompareRuns(target, width: 10, steps: 30, UtilityKind.AdaptableContribution);
            foreach (int width in new[] { 1, 10 }) Time(width);
        }
        Console.WriteLine(ok ? "cuda-check: PASS" : "cuda-check: FAIL");
        return ok ? 0 : 1;
    }

    private static bool CompareRuns(KernelEngine.Target target, int width, int steps, UtilityKind utility)
    {
        var settings = new CbpSettings(utility, 0.99, ReplacementRate: steps >= 100 ? 0.01 : 0.3, MaturityThreshold: steps >= 100 ? 20 : 2,
            ReplacementCountRule.Probabilistic, NextBiasCorrection: true, AdamStateReset.MomentsAndStepCounters);
        var h = new AdamSettings(1e-3, 0.99, 0.99, 1e-8, 1e-4);
        using var cpu = new KernelEngine(KernelEngine.Target.CpuLoops, width, settings, h, seed: 5);
        using var gpu = new KernelEngine(target, width, settings, h, seed: 5);
        var random = new Random(6);
        int replaced = 0, differentChoices = 0;
        for (int s = 0; s < steps; s++)
        {
            var g = cpu.Gradients.Span;
            for (int i = 0; i < g.Length; i++) g[i] = (float)(random.NextDouble() * 2 - 1);
            g.CopyTo(gpu.Gradients.Span);
            gpu.UploadGradients();
            int n = cpu.StepWithCbp();
            gpu.StepWithCbp();
            replaced += n;
            for (int l = 0; l < cpu.Layers.Length; l++)
                if (!cpu.Engine.LastReplaced(l).SequenceEqual(gpu.Engine.LastReplaced(l))) differentChoices++;
        }
        gpu.DownloadParameters();
        double worst = WorstRelative(cpu.Parameters.Span, gpu.Parameters.Span, out int bitwiseDifferent);
        var (mc, vc, tc) = Read(cpu.Adam);
        var (mg, vg, tg) = Read(gpu.Adam);
        double worstM = WorstRelative(mc, mg, out _), worstV = WorstRelative(vc, vg, out _);
        bool countersEqual = tc.AsSpan().SequenceEqual(tg);
        Console.WriteLine($"cuda-check width {width} {utility}: {steps} steps, {replaced} replacements, {differentChoices} layer-steps with different choices; " +
            $"parameters: worst relative difference {worst:E2} ({bitwiseDifferent} of {cpu.Parameters.Length} not bitwise equal); " +
            $"m {worstM:E2}, v {worstV:E2}, step counters equal: {countersEqual}; device {gpu.Device}");
        return differentChoices == 0 && countersEqual && worst <= 1e-5 && replaced > 0;
    }

    private static void Time(int width)
    {
        var h = new AdamSettings(1e-4, 0.99, 0.99, 1e-8, 1e-4);
        foreach (var target in new[] { KernelEngine.Target.CpuLoops, KernelEngine.Target.Cuda })
        {
            using var engine = new KernelEngine(target, width, CbpSettings.Seed2023, h, seed: 1);
            var adam = new List<double>();
            var full = new List<double>();
            for (int s = 0; s < 60; s++)
            {
                long t0 = Stopwatch.GetTimestamp();
                engine.Adam.Step();
                long t1 = Stopwatch.GetTimestamp();
                engine.StepWithCbp();
                long t2 = Stopwatch.GetTimestamp();
                if (s >= 10)
                {
                    adam.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                    full.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
                }
            }
            Console.WriteLine($"cuda-check timing width {width} ({engine.Parameters.Length:N0} parameters) on {engine.Device}: " +
                $"Adam step median {Median(adam):F3} ms, Adam step + CBP median {Median(full):F3} ms");
        }
    }

    private static (float[] M, float[] V, int[] T) Read(IAgedAdam adam)
    {
        var m = new float[adam.Length];
        var v = new float[adam.Length];
        var t = new int[adam.Length];
        adam.ReadState(m, v, t);
        return (m, v, t);
    }

    private static double WorstRelative(ReadOnlySpan<float> a, ReadOnlySpan<float> b, out int different)
    {
        double worst = 0;
        different = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i]) different++;
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]) / Math.Max(1e-3, Math.Abs(a[i])));
        }
        return worst;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
