using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CbpGpu.Agent.Networks;
using CbpGpu.Physics;
using CbpGpu.Physics.Rendering;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Rendering;

/// <summary>One run in a video: its snapshot and the words its caption starts with.</summary>
/// <param name="Method">The method's command-line word (std, ns, l2, cbp).</param>
public sealed record VideoRun(RunSnapshot Snapshot, string Method);

/// <summary>
/// How a video is made (docs/render.md#what-it-shows): <paramref name="Steps"/> env steps, one frame after each, of
/// one episode per run from reset noise stream 0 of <paramref name="Seed"/> at <paramref name="Friction"/>.
/// </summary>
/// <param name="Sample">Sample actions from the policy's Gaussian (noise from <paramref name="Seed"/>) instead of its mean.</param>
public sealed record VideoSettings(int Steps, ulong Seed, bool Sample, double Friction, int TileWidth, int TileHeight, int Fps, CameraMode Camera);

/// <summary>What was made: frames, each episode's return and length so far, and where the time went.</summary>
public sealed record VideoResult(int Frames, double[] Returns, int[] Lengths, bool[] Ended, double Seconds, double RenderSeconds);

/// <summary>
/// Plays one episode per run side by side (the same start for each) and writes a frame after every env step, each run
/// in its own tile with a caption: method, steps trained, friction, step, return so far. An episode that ends keeps
/// its last pose on screen, captioned with how it ended, until the video's steps are done.
/// </summary>
public static class PolicyVideo
{
    // Mixed into the seed for the sampling noise, so it never shares a stream with the envs' reset noise.
    private const ulong SampleTag = 0x5A3B_1E00_0000_0000UL;

    public static VideoResult Render(IReadOnlyList<VideoRun> runs, VideoSettings settings, VideoWriter writer)
    {
        long start = Stopwatch.GetTimestamp();
        int n = runs.Count;
        var envs = new IEnv[n];
        var nets = new ActorCritic[n];
        var noise = new Rng[n];
        var ended = new string?[n];
        var views = new EnvView[n];
        // One renderer draws every tile, so every run must be drawn with the same view (the same env, or the Ant on
        // either engine); the first run's view is the video's.
        var view = ViewOf(runs[0].Snapshot.Config.Env.Ant);
        try
        {
            for (int i = 0; i < n; i++)
            {
                var config = runs[i].Snapshot.Config;
                var own = views[i] = ViewOf(config.Env.Ant);
                if (own.Asset != view.Asset)
                    throw new VideoException($"runs of {runs[0].Snapshot.Config.Env.Ant.Id} and {config.Env.Ant.Id} cannot share a video (different bodies); render them apart");
                envs[i] = EnvRegistry.Create(config.Env.Ant, settings.Seed, 0, settings.Friction);
                nets[i] = new ActorCritic(envs[i].ObservationSize, config.Ppo.HiddenUnits, envs[i].ActionSize, CPU, config.Ppo.Network.Activation);
                nets[i].Parameters.CopyFrom(runs[i].Snapshot.Weights);
                noise[i] = new Rng(settings.Seed ^ SampleTag, (ulong)i);
            }
            using var renderer = new EnvRenderer(view, settings.TileWidth, settings.TileHeight, n, settings.Camera);
            var frame = new byte[renderer.Width * renderer.Height * 3];
            var actions = envs.Select(e => new float[e.ActionSize]).ToArray();
            var qpos = new double[renderer.PoseSize];
            double renderSeconds = 0;
            for (int step = 1; step <= settings.Steps; step++)
            {
                for (int i = 0; i < n; i++)
                {
                    if (ended[i] is null) ended[i] = Advance(envs[i], nets[i], settings.Sample, ref noise[i], actions[i]);
                }
                long drawStart = Stopwatch.GetTimestamp();
                for (int i = 0; i < n; i++)
                {
                    views[i].Pose(envs[i], qpos);
                    renderer.Draw(i, qpos, Labels(views[i]), Values(runs[i], envs[i], views[i], settings, ended[i]));
                }
                renderer.ReadFrame(frame);
                renderSeconds += Stopwatch.GetElapsedTime(drawStart).TotalSeconds;
                writer.Add(frame);
            }
            return new VideoResult(writer.Frames, [.. envs.Select(a => a.EpisodeReturn)], [.. envs.Select(a => a.EpisodeLength)],
                [.. ended.Select(e => e is not null)], Stopwatch.GetElapsedTime(start).TotalSeconds, renderSeconds);
        }
        finally
        {
            foreach (var a in envs) a?.Dispose();
            foreach (var m in nets) m?.Dispose();
        }
    }

    /// <summary>How <paramref name="env"/>'s runs are drawn, as its registry entry declares (docs/render.md#envs).</summary>
    public static EnvView ViewOf(EnvConfig env) => EnvRegistry.Get(env.Id).View
        ?? throw new VideoException($"{env.Id} declares no view (EnvSpec.View), so its runs cannot be drawn; the envs that can are {string.Join(", ", Drawable)}");

    /// <summary>The registered envs that declare a view.</summary>
    public static IEnumerable<string> Drawable => EnvRegistry.Names.Where(id => EnvRegistry.Get(id).View is not null);

    private const string CaptionLabels = "method\ntrained\nfriction\nstep\nreturn";

    /// <summary>The caption's labels: one more, "physics", where the view has a note (what is drawn is not what was simulated).</summary>
    private static string Labels(EnvView view) => view.Note is null ? CaptionLabels : CaptionLabels + "\nphysics";

    private static string Values(VideoRun run, IEnv env, EnvView view, VideoSettings settings, string? ended)
    {
        var c = CultureInfo.InvariantCulture;
        string step = ended ?? env.EpisodeLength.ToString(c);
        string values = string.Create(c, $"{run.Method}\n{Steps(run.Snapshot.EnvSteps)} steps\n{settings.Friction:G4}\n{step}\n{env.EpisodeReturn:F1}");
        return view.Note is null ? values : $"{values}\n{view.Note}";
    }

    /// <summary>2,048 as 2.0k, 10,240,000 as 10.2M.</summary>
    private static string Steps(long steps) => steps switch
    {
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{steps / 1e6:F1}M"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{steps / 1e3:F1}k"),
        _ => steps.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>One env step with the policy's action; returns how the episode ended, or null while it goes on.</summary>
    private static unsafe string? Advance(IEnv env, ActorCritic net, bool sample, ref Rng noise, float[] action)
    {
        var obs = new float[env.ObservationSize];
        env.WriteObservation(obs);
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var policy = net.Policy(tensor(obs, [1, obs.Length]));
            MemoryMarshal.Cast<byte, float>(policy.Mean.contiguous().bytes).CopyTo(action);
            if (sample)
            {
                var std = MemoryMarshal.Cast<byte, float>(policy.LogStd.exp().contiguous().bytes);
                for (int k = 0; k < action.Length; k++) action[k] += (float)(std[k] * noise.NextGaussian());
            }
        }
        var r = env.Step(action, obs);
        string c(int v) => v.ToString(CultureInfo.InvariantCulture);
        return r.Terminated ? $"{c(env.EpisodeLength)}, ended (unhealthy)" : r.Truncated ? $"{c(env.EpisodeLength)}, time limit" : null;
    }
}
