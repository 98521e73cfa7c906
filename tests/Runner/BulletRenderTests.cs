using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using CbpGpu.Physics;
using CbpGpu.Tests.Agent;
using Xunit;

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
        var first = RenderChecks.RendersTheSameBytesTwice(args, File("a.gif"), File("b.gif"));
        Assert.Contains("12 frames of 96x64", first.Output);
        Assert.Contains($"{run.Dir}: std", first.Output);
        RenderChecks.GifHasMovingFrames(File("a.gif"), 96, 64, 12);
    }
}
