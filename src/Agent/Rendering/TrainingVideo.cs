using System.Globalization;
using CbpGpu.Agent.Evaluation;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Settings;
using CbpGpu.Physics;
using CbpGpu.Physics.Rendering;

namespace CbpGpu.Agent.Rendering;

/// <summary>
/// `train --video-every N` (docs/render.md#during-training): one episode of the policy at a training step, drawn by
/// <see cref="PolicyVideo"/> with `render`'s defaults (mean action, 640 x 480, 20 fps, track camera) for one episode's
/// cap of steps, from the first evaluation episode's start at that step (<see cref="PolicyEvaluation.EpisodeSeed"/>)
/// at training env 0's friction, into videos/step-&lt;step&gt;.mp4 of the run directory, written whole by a rename. Runs
/// on a <see cref="PolicyWorker{TResult}"/> beside training; its result is the file it wrote.
/// </summary>
public sealed class TrainingVideo : IPolicyJob<string>
{
    /// <summary>The run directory's folder of videos.</summary>
    public const string Folder = "videos";

    public const int Width = 640, Height = 480, Fps = 20;

    private readonly TrainConfig _config;
    private readonly string _folder;
    private readonly string _method;

    public TrainingVideo(TrainConfig config, string runDirectory)
    {
        _config = config;
        _folder = Path.Combine(runDirectory, Folder);
        _method = MethodRegistry.Get(config.Ppo.Method).Word;
        var (observations, actions) = EnvRegistry.Sizes(config.Env.Ant);
        ParameterCount = (int)new ParameterLayout(observations, config.Ppo.HiddenUnits, actions).TotalSize;
    }

    public int ParameterCount { get; }

    /// <summary>The video of step <paramref name="step"/> in <paramref name="runDirectory"/>.</summary>
    public static string PathOf(string runDirectory, long step) =>
        Path.Combine(runDirectory, Folder, string.Create(CultureInfo.InvariantCulture, $"step-{step}.mp4"));

    /// <summary>
    /// Why <paramref name="config"/>'s videos cannot be made, checked before a run writes anything: an env that declares
    /// no view, or no EGL or ffmpeg (render's one line naming the package). Null when they can.
    /// </summary>
    public static string? Problem(TrainConfig config, string runDirectory)
    {
        if (EnvRegistry.Get(config.Env.Ant.Id).View is not EnvView view)
            return $"--video-every draws envs that declare a view ({string.Join(", ", PolicyVideo.Drawable)}); {config.Env.Ant.Id} declares none, so drop --video-every";
        try
        {
            Mp4Writer.EnsureInstalled(PathOf(runDirectory, 0), "or leave out --video-every");
            using var probe = new EnvRenderer(view, 16, 16, 1, CameraMode.Track);
        }
        catch (Exception e) when (e is VideoException or PhysicsException)
        {
            return e.Message;
        }
        return null;
    }

    /// <summary>Whether <see cref="PolicyVideo"/> can draw runs of <paramref name="env"/>: its registry entry declares a view.</summary>
    public static bool Renders(EnvConfig env) => EnvRegistry.Get(env.Id).View is not null;

    public string Run(ReadOnlySpan<float> weights, double friction, long step, int update, double elapsedSeconds)
    {
        Directory.CreateDirectory(_folder);
        string path = PathOf(Path.GetDirectoryName(_folder)!, step);
        var snapshot = new RunSnapshot(path, _config, step, weights.ToArray(), friction);
        var settings = new VideoSettings(_config.Env.Ant.MaxEpisodeSteps, PolicyEvaluation.EpisodeSeed(_config.Run.Seed, step), Sample: false,
            friction, Width, Height, Fps, CameraMode.Track);
        using var writer = VideoWriter.Create(path, Width, Height, Fps);
        PolicyVideo.Render([new VideoRun(snapshot, _method)], settings, writer);
        writer.Finish();
        return path;
    }

    public void Dispose()
    {
    }
}
