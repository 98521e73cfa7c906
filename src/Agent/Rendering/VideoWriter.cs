namespace CbpGpu.Agent.Rendering;

/// <summary>
/// A video file written frame by frame (docs/render.md#files): MP4 (H.264) through Debian's ffmpeg, or an animated GIF
/// through ImageSharp, picked by the file's extension. Frames are RGB bytes, rows top to bottom. The file is written
/// whole or not at all: into a temporary file next to it, renamed at <see cref="Finish"/>.
/// </summary>
public abstract class VideoWriter : IDisposable
{
    protected VideoWriter(string path, int width, int height, int fps)
    {
        Path = path;
        Width = width;
        Height = height;
        Fps = fps;
        TempPath = path + ".tmp";
    }

    public string Path { get; }
    public int Width { get; }
    public int Height { get; }
    public int Fps { get; }
    public int Frames { get; private set; }
    protected string TempPath { get; }

    /// <summary>The kinds of file by extension, for usage messages.</summary>
    public const string Extensions = ".mp4 or .gif";

    /// <summary>True for a path this class can write (ends in .mp4 or .gif, any case).</summary>
    public static bool Writes(string path) => Kind(path) is not null;

    /// <summary>Checks before any frame is drawn that the encoder can run (ffmpeg installed for MP4); throws a <see cref="VideoException"/> naming the fix.</summary>
    public static VideoWriter Create(string path, int width, int height, int fps) => Kind(path) switch
    {
        ".mp4" => new Mp4Writer(path, width, height, fps),
        ".gif" => new GifWriter(path, width, height, fps),
        _ => throw new ArgumentException($"{path}: a video file ends in {Extensions}", nameof(path)),
    };

    private static string? Kind(string path)
    {
        string extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return extension is ".mp4" or ".gif" ? extension : null;
    }

    public void Add(ReadOnlySpan<byte> rgb)
    {
        if (rgb.Length != Width * Height * 3) throw new ArgumentException($"a {Width}x{Height} RGB frame has {Width * Height * 3} bytes, got {rgb.Length}", nameof(rgb));
        AddFrame(rgb);
        Frames++;
    }

    /// <summary>Encodes what is left and moves the finished file to <see cref="Path"/>.</summary>
    public void Finish()
    {
        FinishTemp();
        File.Move(TempPath, Path, overwrite: true);
    }

    protected abstract void AddFrame(ReadOnlySpan<byte> rgb);
    protected abstract void FinishTemp();

    /// <summary>Releases the encoder; a file not finished is removed.</summary>
    public virtual void Dispose()
    {
        if (File.Exists(TempPath)) File.Delete(TempPath);
        GC.SuppressFinalize(this);
    }
}

/// <summary>An encoder that cannot run or failed (ffmpeg missing or exiting with an error): one line naming the fix.</summary>
public sealed class VideoException(string message) : Exception(message);
