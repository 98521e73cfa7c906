using CbpGpu.Physics;
using CbpGpu.Physics.Rendering;
using Xunit;

namespace CbpGpu.Tests.Physics;

/// <summary>
/// Every registered env that declares a view, drawn by <see cref="EnvRenderer"/> with real MuJoCo and real OpenGL (EGL,
/// Mesa's software renderer) from the env's own MJCF (docs/render.md#envs): the frame shows the body, the body's pixels
/// change when its pose does, and the track camera follows the body where the fixed one does not.
/// </summary>
public sealed class EnvRenderTests
{
    private const int Width = 128, Height = 96;

    /// <summary>A pixel differs when a channel differs by more than this (MuJoCo draws the same scene the same way).</summary>
    private const int Tolerance = 24;

    public static TheoryData<string> Drawable => [.. EnvRegistry.Names.Where(id => EnvRegistry.Get(id).View is not null)];

    [Fact]
    public void EveryBuiltInMuJoCoEnvDeclaresAView()
    {
        foreach (string id in new[] { EnvRegistry.Ant, EnvRegistry.AntBullet, EnvRegistry.Hopper, EnvRegistry.Walker2d, EnvRegistry.HalfCheetah })
            Assert.NotNull(EnvRegistry.Get(id).View);
    }

    [Theory]
    [MemberData(nameof(Drawable))]
    public void TheBodyIsDrawnAndItsPixelsMoveWhenThePoseChanges(string id)
    {
        var (view, pose) = StartPose(id);
        int body;
        // One renderer (one OpenGL context) at a time on a thread, as PolicyVideo uses them.
        using (var renderer = new EnvRenderer(view, Width, Height, 1, CameraMode.Fixed))
        {
            // The body taken far away from the fixed camera leaves floor and sky: what differs is the body.
            body = Differing(Frame(renderer, pose), Frame(renderer, Moved(pose, 0, 1000.0)));
        }
        Assert.True(body > 20, $"{id}: only {body} pixels show the body");
        Assert.True(body < Width * Height / 2, $"{id}: {body} of {Width * Height} pixels changed without the body");

        // The last joint of every body is a hinge (a foot or an ankle): bent by 0.8 rad, some of the body's pixels move
        // (seen by the track camera, from close by).
        using var track = new EnvRenderer(view, Width, Height, 1, CameraMode.Track);
        byte[] near = Settled(track, pose), bent = Settled(track, Moved(pose, pose.Length - 1, 0.8));
        Assert.True(Differing(near, bent) > 20, $"{id}: bending the last joint changed only {Differing(near, bent)} pixels");
    }

    [Theory]
    [MemberData(nameof(Drawable))]
    public void TheTrackCameraFollowsTheBodyAndTheFixedOneDoesNot(string id)
    {
        var (view, pose) = StartPose(id);
        // 4 m along x: the checkered floor repeats every metre, so a camera that moves with the body sees the same frame.
        double[] ahead = Moved(pose, 0, 4.0);
        using (var track = new EnvRenderer(view, Width, Height, 1, CameraMode.Track))
        {
            byte[] here = Settled(track, pose), there = Settled(track, ahead);
            Assert.True(Differing(here, there) < Width * Height / 200, $"{id}: the track camera's frame changed by {Differing(here, there)} pixels when the body moved 4 m");
        }
        using var fixedCamera = new EnvRenderer(view, Width, Height, 1, CameraMode.Fixed);
        Assert.True(Differing(Frame(fixedCamera, pose), Frame(fixedCamera, ahead)) > 20, $"{id}: the fixed camera's frame did not change when the body moved 4 m");
    }

    /// <summary>The env's first pose after a reset, as its view reads it.</summary>
    private static (EnvView View, double[] Pose) StartPose(string id)
    {
        var spec = EnvRegistry.Get(id);
        var view = spec.View!;
        using var env = EnvRegistry.Create(spec.Defaults, seed: 3, index: 0, friction: 1.0);
        using var renderer = new EnvRenderer(view, 16, 16, 1, CameraMode.Fixed);
        var pose = new double[renderer.PoseSize];
        view.Pose(env, pose);
        return (view, pose);
    }

    /// <summary><paramref name="pose"/> with <paramref name="by"/> added to qpos[<paramref name="index"/>] (qpos[0] is x for every built-in body).</summary>
    private static double[] Moved(double[] pose, int index, double by)
    {
        var moved = (double[])pose.Clone();
        moved[index] += by;
        return moved;
    }

    private static byte[] Frame(EnvRenderer renderer, double[] pose)
    {
        renderer.Draw(0, pose, "", "");
        var rgb = new byte[renderer.Width * renderer.Height * 3];
        renderer.ReadFrame(rgb);
        return rgb;
    }

    /// <summary>The frame once MuJoCo's tracking camera, which moves a fifth of the way to the body per frame, has arrived (0.8^80 of the way left).</summary>
    private static byte[] Settled(EnvRenderer renderer, double[] pose)
    {
        for (int i = 0; i < 80; i++) renderer.Draw(0, pose, "", "");
        return Frame(renderer, pose);
    }

    private static int Differing(byte[] a, byte[] b)
    {
        int n = 0;
        for (int p = 0; p < a.Length; p += 3)
            if (Math.Abs(a[p] - b[p]) > Tolerance || Math.Abs(a[p + 1] - b[p + 1]) > Tolerance || Math.Abs(a[p + 2] - b[p + 2]) > Tolerance) n++;
        return n;
    }
}
