using System.CommandLine;
using System.Globalization;
using CbpGpu.Agent;
using CbpGpu.Agent.Rendering;
using CbpGpu.Physics;
using CbpGpu.Physics.Rendering;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>`Runner render`: a video of a checkpoint's policy walking, alone or side by side with others (docs/render.md).</summary>
public sealed class RenderCommand : RunnerCommand
{
    private const int MaxSide = 4096;

    private readonly Argument<string> _run = new("RUN_DIR_OR_CHECKPOINT")
    {
        Description = "a run directory (train --out) or a checkpoint.bin",
    };

    private readonly Option<string[]> _compare = new("--compare")
    {
        HelpName = "RUN",
        Description = "more run directories or checkpoints, each rendered beside the first in a tile of its own, from the same episode start and at the same friction (default: none)",
        AllowMultipleArgumentsPerToken = true,
    };

    private readonly Option<string> _out = OptionFactory.Text("--out", "FILE", $"the video: FILE.mp4 (H.264 through ffmpeg) or FILE.gif", required: true);
    private readonly Option<double?> _friction = OptionFactory.OptionalReal(
        "--friction", "F", "the episode's friction, 1e-6 to 1e6, as the env's friction schedule sets it (--env's help says what it is for each body; default: the friction training env 0 had at the first run's checkpoint)", 1e-6, 1e6);
    private readonly Option<int> _steps = OptionFactory.Count("--steps", "N", "env steps, one frame after each", 1000, 1, 100_000);
    private readonly Option<long> _seed = OptionFactory.Count("--seed", "S", "the episode's reset noise (and the noise of --sample)", 0L, 0L, long.MaxValue);
    private readonly Option<bool> _deterministic = OptionFactory.Switch("--deterministic", "act with the policy's mean action (the default, as evaluation does)");
    private readonly Option<bool> _sample = OptionFactory.Switch("--sample", "sample actions from the policy's Gaussian, as training does");
    private readonly Option<int> _width = OptionFactory.Count("--width", "PIXELS", "width of each run's tile (even)", 640, 16, MaxSide);
    private readonly Option<int> _height = OptionFactory.Count("--height", "PIXELS", "height of the video (even)", 480, 16, MaxSide);
    private readonly Option<int> _fps = OptionFactory.Count("--fps", "N", "frames per second (20: real time for an env step of 0.05 s, as the MuJoCo Ant's; docs/render.md gives each env's)", 20, 1, 100);

    private readonly ChoiceOption<CameraMode> _camera = new(
        "--camera", "track: follows the body from the side (Gym's camera where Gym sets one); fixed: looks at the start from above and behind", "track",
        ("track", CameraMode.Track), ("fixed", CameraMode.Fixed));

    public RenderCommand() : base("render", "write a video (MP4 or GIF) of a checkpoint's policy walking, or several side by side", $"""
        Loads each run's config and checkpoint and plays one episode of its task (its env, any registered env that
        declares a view, which the built-in ones all do; its observation and episode cap) from reset
        noise stream 0 of --seed, every run from the same start and at the same friction, one frame after each env
        step, drawn with the env's own MJCF. Runs side by side must be of one body. Each run has a tile with a caption:
        method, steps trained, friction, step and return so far. An episode that ends before --steps keeps its last pose
        on screen, captioned with how it ended. A Bullet run is drawn with the MuJoCo Ant's model (the same body plan:
        its base pose and joint angles), and its caption says so.

        Drawn by MuJoCo's own renderer into an offscreen OpenGL framebuffer of a headless EGL context (Mesa's software
        renderer where there is no GPU): needs sudo apt-get install {EglContext.Packages}, and ffmpeg for MP4.
        A GIF keeps every frame in memory until the end (width x height x 3 bytes each): keep it short and small.
        The same command gives the same file, byte for byte.
        """)
    {
        Add(_run);
        Add(_compare);
        Add(_out);
        Add(_friction);
        Add(_steps);
        Add(_seed);
        Add(_deterministic);
        Add(_sample);
        Add(_width);
        Add(_height);
        Add(_fps);
        Add(_camera);
        SetAction(Run);
    }

    private int Run(ParseResult result)
    {
        string outPath = result.GetValue(_out)!;
        if (!VideoWriter.Writes(outPath)) throw new UsageException($"--out {outPath}: the video file must end in {VideoWriter.Extensions}");
        if (result.GetValue(_deterministic) && result.GetValue(_sample)) throw new UsageException("--deterministic and --sample exclude each other; give one");
        int width = result.GetValue(_width), height = result.GetValue(_height);
        if (width % 2 != 0 || height % 2 != 0) throw new UsageException($"--width and --height must be even (H.264 needs it), not {width}x{height}");
        string[] sources = [result.GetValue(_run)!, .. result.GetValue(_compare) ?? []];
        if ((long)width * sources.Length > MaxSide)
            throw new UsageException($"{sources.Length} runs of --width {width} make a video {width * sources.Length} pixels wide, more than {MaxSide}; give a smaller --width");

        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null && !Directory.Exists(dir)) throw new UserFacingException($"--out {outPath}: the directory {dir} does not exist");

        var output = result.InvocationConfiguration.Output;
        TorchRuntime.SetThreads(1);
        var runs = new List<VideoRun>();
        foreach (string source in sources)
        {
            var snapshot = RunSnapshot.Load(source);
            runs.Add(new VideoRun(snapshot, PlotRun.MethodWord(snapshot.Config.Ppo.Method)));
        }
        double friction = result.GetValue(_friction) ?? runs[0].Snapshot.TrainingFriction;
        var settings = new VideoSettings(result.GetValue(_steps), (ulong)result.GetValue(_seed), result.GetValue(_sample), friction,
            width, height, result.GetValue(_fps), _camera.Get(result));
        VideoResult video;
        try
        {
            using var writer = VideoWriter.Create(outPath, width * runs.Count, height, settings.Fps);
            video = PolicyVideo.Render(runs, settings, writer);
            writer.Finish();
        }
        catch (VideoException e)
        {
            throw new UserFacingException(e.Message);
        }
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c,
            $"render: {video.Frames} frames of {width * runs.Count}x{height} at friction {friction:G4} -> {outPath} ({new FileInfo(outPath).Length / 1024.0:F0} KiB, {video.Seconds:F1} s, drawing {video.RenderSeconds:F1} s)"));
        for (int i = 0; i < runs.Count; i++)
            output.WriteLine(string.Create(c,
                $"  {sources[i]}: {runs[i].Method}, return {video.Returns[i]:F1} over {video.Lengths[i]} steps{(video.Ended[i] ? " (episode ended)" : "")}"));
        return 0;
    }
}
