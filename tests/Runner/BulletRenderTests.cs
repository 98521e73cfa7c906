using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using CbpGpu.Tests.Agent;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>A short real run on the Bullet Ant (one update), trained once for the Bullet render tests.</summary>
public sealed class BulletRenderRun : IDisposable
{
    public BulletRenderRun()
    {
        var config = TrainRuns.Config(2048, PpoMethod.Standard);
        config = config with { Env = config.Env with { Ant = config.Env.Ant with { Engine = PhysicsEngine.Bullet } } };
        TrainRuns.Train(Dir, config);
    }

    public string Root { get; } = TrainRuns.NewRoot("render-bullet");
    public string Dir => Path.Combine(Root, "std");

    public void Dispose() => Directory.Delete(Root, true);
}

/// <summary>
/// `Runner render` of a Bullet run (docs/render.md#bullet-runs): the Bullet Ant's poses drawn with the MuJoCo Ant's
/// model, with real Bullet, MuJoCo, OpenGL and encoder; the frames asked for, moving, the same bytes twice.
/// </summary>
public sealed class BulletRenderTests(BulletRenderRun run) : IClassFixture<BulletRenderRun>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cbpgpu-render-bullet-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string File(string name) => Path.Combine(_dir, name);

    [Fact]
    public void ABulletRunRendersTheFramesAndSizeAskedForFramesMoveAndTheSameCommandWritesTheSameBytes()
    {
        string[] args = ["render", run.Dir, "--steps", "12", "--width", "96", "--height", "64", "--out"];
        var first = Invoke([.. args, File("a.gif")]);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("12 frames of 96x64", first.Output);
        Assert.Contains($"{run.Dir}: std", first.Output);
        var second = Invoke([.. args, File("b.gif")]);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Equal(System.IO.File.ReadAllBytes(File("a.gif")), System.IO.File.ReadAllBytes(File("b.gif")));

        using var gif = Image.Load<Rgb24>(File("a.gif"));
        Assert.Equal((96, 64), (gif.Width, gif.Height));
        Assert.Equal(12, gif.Frames.Count);
        var frames = Enumerable.Range(0, gif.Frames.Count).Select(i => Pixels(gif, i)).ToList();
        for (int i = 1; i < frames.Count; i++) Assert.False(frames[i].SequenceEqual(frames[i - 1]), $"frame {i} equals frame {i - 1}");
    }

    private static byte[] Pixels(Image<Rgb24> image, int frame)
    {
        using var one = image.Frames.CloneFrame(frame);
        var pixels = new Rgb24[one.Width * one.Height];
        one.CopyPixelDataTo(pixels);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray();
    }
}
