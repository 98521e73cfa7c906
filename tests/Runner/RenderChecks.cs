using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Runner;

/// <summary>What the render tests check of every video they write (docs/render.md).</summary>
internal static class RenderChecks
{
    /// <summary>
    /// Runs `render` with <paramref name="args"/> (ending in `--out`) into <paramref name="first"/> and then
    /// <paramref name="second"/>: both succeed and write the same bytes. Returns the first run's outcome.
    /// </summary>
    public static Outcome RendersTheSameBytesTwice(string[] args, string first, string second)
    {
        var outcome = Invoke([.. args, first]);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        var again = Invoke([.. args, second]);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        return outcome;
    }

    /// <summary>The GIF has the size and frame count asked for, and no frame equals the one before it (the body moves).</summary>
    public static void GifHasMovingFrames(string path, int width, int height, int frames)
    {
        using var gif = Image.Load<Rgb24>(path);
        Assert.Equal((width, height), (gif.Width, gif.Height));
        Assert.Equal(frames, gif.Frames.Count);
        byte[] previous = Pixels(gif, 0);
        for (int i = 1; i < frames; i++)
        {
            byte[] frame = Pixels(gif, i);
            Assert.False(frame.AsSpan().SequenceEqual(previous), $"frame {i} equals frame {i - 1}");
            previous = frame;
        }
    }

    private static byte[] Pixels(Image<Rgb24> image, int frame)
    {
        using var one = image.Frames.CloneFrame(frame);
        var pixels = new Rgb24[one.Width * one.Height];
        one.CopyPixelDataTo(pixels);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray();
    }
}
