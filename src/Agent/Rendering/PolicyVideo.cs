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
    // Mixed into the seed for the sampling noise, so it never shares a stream with the Ants' reset noise.
    private const ulong SampleTag = 0x5A3B_1E00_0000_0000UL;

    public static VideoResult Render(IReadOnlyList<VideoRun> runs, VideoSettings settings, VideoWriter writer)
    {
        long start = Stopwatch.GetTimestamp();
        int n = runs.Count;
        var ants = new IAnt[n];
        var nets = new ActorCritic[n];
        var noise = new Rng[n];
        var ended = new string?[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                var config = runs[i].Snapshot.Config;
                var env = EnvRegistry.Create(config.Env.Ant, settings.Seed, 0, settings.Friction);
                if (env is not IAnt ant)
                {
                    env.Dispose();
                    throw new VideoException($"render draws the Ant only (ant, ant-bullet); a run of {config.Env.Ant.Id} has no view model yet");
                }
                ants[i] = ant;
                nets[i] = new ActorCritic(ant.ObservationSize, config.Ppo.HiddenUnits, ant.ActionSize, CPU, config.Ppo.Network.Activation);
                nets[i].Parameters.CopyFrom(runs[i].Snapshot.Weights);
                noise[i] = new Rng(settings.Seed ^ SampleTag, (ulong)i);
            }
            using var renderer = new AntRenderer(settings.TileWidth, settings.TileHeight, n, settings.Camera);
            var frame = new byte[renderer.Width * renderer.Height * 3];
            var action = new float[IAnt.Actuators];
            var qpos = new double[BulletAnt.MuJoCoQposSize];
            double renderSeconds = 0;
            for (int step = 1; step <= settings.Steps; step++)
            {
                for (int i = 0; i < n; i++)
                {
                    if (ended[i] is null) ended[i] = Advance(ants[i], nets[i], settings.Sample, ref noise[i], action);
                }
                long drawStart = Stopwatch.GetTimestamp();
                for (int i = 0; i < n; i++)
                    renderer.Draw(i, Pose(ants[i], qpos), Labels(ants[i]), Values(runs[i], ants[i], settings, ended[i]));
                renderer.ReadFrame(frame);
                renderSeconds += Stopwatch.GetElapsedTime(drawStart).TotalSeconds;
                writer.Add(frame);
            }
            return new VideoResult(writer.Frames, [.. ants.Select(a => a.EpisodeReturn)], [.. ants.Select(a => a.EpisodeLength)],
                [.. ended.Select(e => e is not null)], Stopwatch.GetElapsedTime(start).TotalSeconds, renderSeconds);
        }
        finally
        {
            foreach (var a in ants) a?.Dispose();
            foreach (var m in nets) m?.Dispose();
        }
    }

    private const string MuJoCoLabels = "method\ntrained\nfriction\nstep\nreturn";
    private const string BulletLabels = MuJoCoLabels + "\nphysics";

    /// <summary>The caption line of a Bullet run: what is drawn is not the body that was simulated.</summary>
    public const string BulletCaption = "Bullet Ant drawn with the MuJoCo model";

    private static string Labels(IAnt ant) => ant is BulletAnt ? BulletLabels : MuJoCoLabels;

    /// <summary>
    /// The ant's pose as the view model's qpos: the MuJoCo Ant's own, or the Bullet Ant's base pose and joint angles
    /// put into the MuJoCo Ant's (the same body plan, docs/render.md#bullet-runs).
    /// </summary>
    private static ReadOnlySpan<double> Pose(IAnt ant, double[] buffer)
    {
        switch (ant)
        {
            case SlipperyAnt mujoco:
                return mujoco.Data.Qpos;
            case BulletAnt bullet:
                bullet.WriteMuJoCoQpos(buffer);
                return buffer;
            default:
                throw new ArgumentException($"no pose for a {ant.GetType().Name}", nameof(ant));
        }
    }

    private static string Values(VideoRun run, IAnt ant, VideoSettings settings, string? ended)
    {
        var c = CultureInfo.InvariantCulture;
        string step = ended ?? ant.EpisodeLength.ToString(c);
        string values = string.Create(c, $"{run.Method}\n{Steps(run.Snapshot.EnvSteps)} steps\n{settings.Friction:G4}\n{step}\n{ant.EpisodeReturn:F1}");
        return ant is BulletAnt ? $"{values}\n{BulletCaption}" : values;
    }

    /// <summary>2,048 as 2.0k, 10,240,000 as 10.2M.</summary>
    private static string Steps(long steps) => steps switch
    {
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{steps / 1e6:F1}M"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{steps / 1e3:F1}k"),
        _ => steps.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>One env step with the policy's action; returns how the episode ended, or null while it goes on.</summary>
    private static unsafe string? Advance(IAnt ant, ActorCritic net, bool sample, ref Rng noise, float[] action)
    {
        var obs = new float[ant.ObservationSize];
        ant.WriteObservation(obs);
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
        var r = ant.Step(action, obs);
        string c(int v) => v.ToString(CultureInfo.InvariantCulture);
        return r.Terminated ? $"{c(ant.EpisodeLength)}, ended (unhealthy)" : r.Truncated ? $"{c(ant.EpisodeLength)}, time limit" : null;
    }
}
