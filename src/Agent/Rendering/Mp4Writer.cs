using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace CbpGpu.Agent.Rendering;

/// <summary>
/// An H.264 MP4 through Debian's ffmpeg, fed raw RGB frames on its standard input. The encoder's settings are fixed
/// (x264 on two threads, no time stamps or version strings in the container) so that the same frames give the same
/// bytes on every run (docs/render.md#files).
/// </summary>
internal sealed class Mp4Writer : VideoWriter
{
    /// <summary>The Debian package that has ffmpeg.</summary>
    public const string Package = "ffmpeg";

    private readonly Process _ffmpeg;
    private readonly StringBuilder _errors = new();
    private readonly Stream _input;

    public Mp4Writer(string path, int width, int height, int fps) : base(path, width, height, fps)
    {
        string exe = FindOnPath("ffmpeg") ?? throw Missing(path);
        var psi = new ProcessStartInfo(exe) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        string[] args =
        [
            "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{I(width)}x{I(height)}", "-framerate", I(fps), "-i", "pipe:0",
            "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-threads", "2",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-movflags", "+faststart",
            "-f", "mp4", TempPath,
        ];
        foreach (var a in args) psi.ArgumentList.Add(a);
        _ffmpeg = new Process { StartInfo = psi };
        _ffmpeg.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_errors) _errors.AppendLine(e.Data); };
        _ffmpeg.OutputDataReceived += (_, _) => { };
        _ffmpeg.Start();
        _ffmpeg.BeginErrorReadLine();
        _ffmpeg.BeginOutputReadLine();
        _input = _ffmpeg.StandardInput.BaseStream;
    }

    /// <summary>
    /// Throws the one-line <see cref="VideoException"/> naming the package when ffmpeg is not on PATH, ending with
    /// <paramref name="otherwise"/>: what the caller's user can do instead.
    /// </summary>
    public static void EnsureInstalled(string path, string otherwise)
    {
        if (FindOnPath("ffmpeg") is null) throw Missing(path, otherwise);
    }

    private static VideoException Missing(string path, string otherwise = WriteAGif) =>
        new($"writing {path} (MP4) needs ffmpeg, which is not on PATH; install it with: sudo apt-get install {Package} ({otherwise})");

    private const string WriteAGif = "or write a .gif";

    protected override void AddFrame(ReadOnlySpan<byte> rgb)
    {
        try
        {
            _input.Write(rgb);
        }
        catch (IOException)
        {
            _ffmpeg.WaitForExit();
            throw Failed();
        }
    }

    protected override void FinishTemp()
    {
        try
        {
            _input.Close();
        }
        catch (IOException)
        {
            // ffmpeg already ended; its exit code and message say why.
        }
        _ffmpeg.WaitForExit();
        if (_ffmpeg.ExitCode != 0) throw Failed();
    }

    private VideoException Failed()
    {
        string message;
        lock (_errors) message = _errors.ToString().ReplaceLineEndings(" ").Trim();
        return new VideoException($"ffmpeg could not write {Path} (exit code {_ffmpeg.ExitCode}): {(message.Length > 0 ? message : "no message")}");
    }

    private static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = System.IO.Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public override void Dispose()
    {
        if (!_ffmpeg.HasExited)
        {
            _ffmpeg.Kill();
            _ffmpeg.WaitForExit();
        }
        _ffmpeg.Dispose();
        base.Dispose();
    }
}
