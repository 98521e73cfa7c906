using System.Diagnostics;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using CbpGpu.Physics.Rendering;
using CbpGpu.Tests.Agent;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>Two short real runs (std and cbp, one update each), trained once for every render test.</summary>
public sealed class RenderRuns : IDisposable
{
    public RenderRuns()
    {
        Std = Path.Combine(Root, "std");
        Cbp = Path.Combine(Root, "cbp");
        TrainRuns.Train(Std, TrainRuns.Config(2048, PpoMethod.Standard));
        TrainRuns.Train(Cbp, TrainRuns.Config(2048, PpoMethod.Cbp));
    }

    public string Root { get; } = TrainRuns.NewRoot("render");
    public string Std { get; }
    public string Cbp { get; }

    public void Dispose() => Directory.Delete(Root, true);
}

/// <summary>
/// `Runner render` (docs/render.md) with real MuJoCo, real OpenGL (EGL, Mesa's software renderer) and real encoders:
/// the frames asked for, of the size asked for, moving, the same bytes from the same command, and one `error:` line
/// naming the Debian package when EGL or ffmpeg is missing.
/// </summary>
public sealed class RenderTests(RenderRuns runs) : IClassFixture<RenderRuns>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cbpgpu-render-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string File(string name) => Path.Combine(_dir, name);

    [Fact]
    public void GifHasTheFramesAndSizeAskedForFramesMoveAndTheSameCommandWritesTheSameBytes()
    {
        string[] args = ["render", runs.Std, "--steps", "12", "--width", "96", "--height", "64", "--out"];
        var first = RenderChecks.RendersTheSameBytesTwice(args, File("a.gif"), File("b.gif"));
        Assert.Contains("12 frames of 96x64", first.Output);
        RenderChecks.GifHasMovingFrames(File("a.gif"), 96, 64, 12);
        Assert.False(Directory.EnumerateFiles(_dir, "*.tmp").Any());
    }

    [Fact]
    public void Mp4SideBySideHasTheFramesAndSizeAskedForFramesMoveAndTheSameCommandWritesTheSameBytes()
    {
        string[] args = ["render", runs.Std, "--compare", runs.Cbp, "--steps", "10", "--width", "160", "--height", "120", "--sample", "--out"];
        var first = RenderChecks.RendersTheSameBytesTwice(args, File("a.mp4"), File("b.mp4"));

        // Two tiles of 160 across; ffmpeg decodes what was encoded.
        byte[] raw = Decode(File("a.mp4"));
        int frameBytes = 320 * 120 * 3;
        Assert.Equal(10 * frameBytes, raw.Length);
        for (int i = 1; i < 10; i++)
            Assert.False(raw.AsSpan(i * frameBytes, frameBytes).SequenceEqual(raw.AsSpan((i - 1) * frameBytes, frameBytes)), $"frame {i} equals frame {i - 1}");
        Assert.Contains($"{runs.Std}: std", first.Output);
        Assert.Contains($"{runs.Cbp}: cbp", first.Output);
    }

    /// <summary>A Hopper run (one update) drawn from the Hopper's own MJCF; a Hopper beside an Ant is refused in one line.</summary>
    [Fact]
    public void AHopperRunIsDrawnAndCannotShareAVideoWithAnAnt()
    {
        string hopper = File("hopper-run");
        var config = TrainRuns.Config(2048) with
        {
            Env = new EnvSettings("constant", 16, CbpGpu.Physics.EnvRegistry.Get(CbpGpu.Physics.EnvRegistry.Hopper).Defaults, CbpGpu.Physics.FrictionConfig.Constant(1.0)),
        };
        TrainRuns.Train(hopper, config);
        var outcome = Invoke("render", hopper, "--steps", "8", "--width", "96", "--height", "64", "--out", File("hopper.gif"));
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.Contains("8 frames of 96x64", outcome.Output);
        RenderChecks.GifHasMovingFrames(File("hopper.gif"), 96, 64, 8);

        var mixed = Invoke("render", hopper, "--compare", runs.Std, "--steps", "2", "--out", File("mixed.gif"));
        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("cannot share a video (different bodies)", mixed.ErrorLine);
        Assert.False(System.IO.File.Exists(File("mixed.gif")));
    }

    [Fact]
    public void MissingEglIsOneErrorLineNamingThePackages()
    {
        var (code, _, stderr) = RunnerProcess.Run(["render", runs.Std, "--steps", "2", "--out", File("x.gif")],
            new Dictionary<string, string> { [EglContext.PathVariable] = "/nonexistent/libEGL.so.1" });
        Assert.Equal(1, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: rendering needs OpenGL through EGL", line);
        Assert.EndsWith($"sudo apt-get install {EglContext.Packages}", line);
        Assert.False(System.IO.File.Exists(File("x.gif")));
    }

    [Fact]
    public void MissingFfmpegIsOneErrorLineNamingThePackage()
    {
        string emptyPath = Directory.CreateDirectory(File("no-programs")).FullName;
        var (code, _, stderr) = RunnerProcess.Run(["render", runs.Std, "--steps", "2", "--out", File("x.mp4")],
            new Dictionary<string, string> { ["PATH"] = emptyPath });
        Assert.Equal(1, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: writing ", line);
        Assert.EndsWith("needs ffmpeg, which is not on PATH; install it with: sudo apt-get install ffmpeg (or write a .gif)", line);
        Assert.False(System.IO.File.Exists(File("x.mp4")));
    }

    [Theory]
    [InlineData("--out", "x.avi", "must end in .mp4 or .gif")]
    [InlineData("--width", "97", "must be even")]
    [InlineData("--sample", "--deterministic", "exclude each other")]
    public void BadOptionsAreUsageErrors(string option, string value, string message)
    {
        string[] args = ["render", runs.Std, "--out", File("x.gif"), option, value];
        if (option == "--out") args = ["render", runs.Std, option, File(value)];
        var outcome = Invoke(args);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(message, outcome.ErrorLine);
    }

    [Fact]
    public void ADirectoryWithoutACheckpointIsRefusedInOneLine()
    {
        var outcome = Invoke("render", _dir, "--out", File("x.gif"));
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("has no checkpoint.bin", outcome.ErrorLine);
    }

    /// <summary>Every frame of a video as raw RGB, decoded by ffmpeg.</summary>
    private static byte[] Decode(string video)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-v", "error", "-i", video, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var errors = p.StandardError.ReadToEndAsync();
        using var raw = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(raw);
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, errors.Result);
        return raw.ToArray();
    }
}
