using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing.Processors.Quantization;

namespace CbpGpu.Agent.Rendering;

/// <summary>
/// An animated GIF through ImageSharp's encoder: a palette per frame (Wu quantiser, no dithering, so still parts of the
/// picture stay still; ImageSharp 2.1's one global palette maps later frames to wrong colours), a delay of 100 / fps
/// hundredths of a second per frame, looping.
/// ImageSharp encodes a whole image at once, so the frames are held in memory until <see cref="VideoWriter.Finish"/>
/// (Width x Height x 3 bytes each; docs/render.md#files).
/// </summary>
internal sealed class GifWriter : VideoWriter
{
    private readonly int _delay;
    private Image<Rgb24>? _image;

    public GifWriter(string path, int width, int height, int fps) : base(path, width, height, fps) =>
        _delay = Math.Max(1, (int)Math.Round(100.0 / fps));

    protected override void AddFrame(ReadOnlySpan<byte> rgb)
    {
        var frame = Image.LoadPixelData<Rgb24>(rgb, Width, Height);
        frame.Frames.RootFrame.Metadata.GetGifMetadata().FrameDelay = _delay;
        if (_image is null)
        {
            _image = frame;
            _image.Metadata.GetGifMetadata().RepeatCount = 0;
            return;
        }
        using (frame) _image.Frames.AddFrame(frame.Frames.RootFrame);
    }

    protected override void FinishTemp()
    {
        var encoder = new GifEncoder
        {
            ColorTableMode = GifColorTableMode.Local,
            Quantizer = new WuQuantizer(new QuantizerOptions { Dither = null, MaxColors = 256 }),
        };
        using var file = new FileStream(TempPath, FileMode.Create, FileAccess.Write);
        (_image ?? throw new InvalidOperationException("a GIF needs at least one frame")).SaveAsGif(file, encoder);
    }

    public override void Dispose()
    {
        _image?.Dispose();
        base.Dispose();
    }
}
