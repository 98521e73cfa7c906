using System.Diagnostics;
using System.Globalization;
using CbpGpu.Agent.Rendering;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;
using CbpGpu.Physics.Rendering;
using CbpGpu.Tests.Runner;
using Xunit;
using static CbpGpu.Tests.Agent.TrainRuns;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// `train --video-every` (docs/render.md#during-training) with the real trainer, MuJoCo renderer and ffmpeg: training's
/// files are the same bytes with videos on, the videos are at the due steps with one frame per episode step, and a
/// resume does not redraw a video its checkpoint already covers.
/// </summary>
public sealed class TrainingVideoTests : IDisposable
{
    private const int Update = 2048;   // 16 envs x 128 steps
    private const int EpisodeSteps = 30;
    private readonly string _root = NewRoot("video");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    private string Dir(string name) => Path.Combine(_root, name);

    /// <summary>Short episodes so that a video (one episode) is quick to draw.</summary>
    private static TrainConfig Short(TrainConfig c, long videoEvery) =>
        c with { Env = c.Env with { Ant = c.Env.Ant with { MaxEpisodeSteps = EpisodeSteps } }, Eval = EvalSettings.Off with { VideoEveryEnvSteps = videoEvery } };

    private static string[] Videos(string dir) =>
        [.. Directory.GetFiles(Path.Combine(dir, TrainingVideo.Folder)).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    /// <summary>ffprobe's decoded frame count, width and height of the video.</summary>
    private static (int Frames, int Width, int Height) Probe(string file)
    {
        var psi = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames,width,height", "-of", "csv=p=0", file })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        int[] v = [.. output.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        return (v[2], v[0], v[1]);
    }

    private static BlockReader ReadCheckpoint(string dir)
    {
        using var file = File.OpenRead(Path.Combine(dir, RunDirectory.CheckpointFile));
        return BlockReader.Read(file, Checkpoint.Magic, Checkpoint.FormatVersion);
    }

    private static byte[] Block(BlockReader r, string name, int version) => r.Read(name, version, x => x.ReadBytes((int)x.BaseStream.Length));

    [Fact]
    public void TrainingFilesAreByteIdenticalWithAndWithoutVideosAndTheVideosAreAtTheDueSteps()
    {
        var off = Short(Config(3 * Update, PpoMethod.Cbp), 0);
        var on = Short(Config(3 * Update, PpoMethod.Cbp), 2 * Update);
        string without = Dir("without"), with = Dir("with");
        Train(without, off);
        var result = Train(with, on);

        Assert.Equal(Episodes(without), Episodes(with));
        Assert.Equal(UpdatesWithoutTimings(without), UpdatesWithoutTimings(with));
        var a = ReadCheckpoint(without);
        var b = ReadCheckpoint(with);
        foreach (var (name, version) in new[] { ("parameters", 1), ("optimizer", 1), ("cbp", 1), ("generator", 1), ("envs", VectorEnv.StateVersion) })
            Assert.Equal(Block(a, name, version), Block(b, name, version));
        var (pa, pb) = (Checkpoint.ReadProgress(a), Checkpoint.ReadProgress(b));
        Assert.Equal((pa.Updates, pa.EnvSteps, pa.Episodes, pa.EpisodesCsvLength), (pb.Updates, pb.EnvSteps, pb.Episodes, pb.EpisodesCsvLength));
        Assert.Equal(pa.RecentReturns, pb.RecentReturns);
        Assert.Equal(on, TrainConfig.FromJson(pb.ConfigJson));

        // Off, config.json has no video key (as before the setting existed); on, it records the period.
        Assert.DoesNotContain("VideoEveryEnvSteps", File.ReadAllText(Path.Combine(without, RunDirectory.ConfigFile)));
        Assert.Contains("\"VideoEveryEnvSteps\": 4096", File.ReadAllText(Path.Combine(with, RunDirectory.ConfigFile)));
        Assert.False(Directory.Exists(Path.Combine(without, TrainingVideo.Folder)));

        // Step 0 and the first update at or past each multiple of 4,096 (updates end at 2,048, 4,096, 6,144).
        Assert.Equal(2, result.Videos);
        Assert.Equal(["step-0.mp4", "step-4096.mp4"], Videos(with));
        foreach (string video in Videos(with))
            Assert.Equal((EpisodeSteps, TrainingVideo.Width, TrainingVideo.Height), Probe(Path.Combine(with, TrainingVideo.Folder, video)));
        // The policy changed between the two steps, so their videos differ.
        Assert.NotEqual(File.ReadAllBytes(TrainingVideo.PathOf(with, 0)), File.ReadAllBytes(TrainingVideo.PathOf(with, 4096)));
    }

    [Fact]
    public void AResumeDoesNotRedrawVideosItsCheckpointCoversAndDrawsTheRestAsAnUninterruptedRun()
    {
        var c = Short(Config(3 * Update), Update);
        string whole = Dir("whole"), split = Dir("split");
        Train(whole, c);
        Train(split, c with { Run = c.Run with { TotalSteps = 2 * Update } });
        Assert.Equal(["step-0.mp4", "step-2048.mp4", "step-4096.mp4"], Videos(split));
        // Marked: a redrawn video would replace the marks.
        foreach (long step in new long[] { 0, 2048, 4096 }) File.WriteAllText(TrainingVideo.PathOf(split, step), "drawn before the checkpoint");
        var resumed = Train(split, c, resume: true);

        Assert.Equal(1, resumed.Videos);
        Assert.Equal(["step-0.mp4", "step-2048.mp4", "step-4096.mp4", "step-6144.mp4"], Videos(split));
        foreach (long step in new long[] { 0, 2048, 4096 }) Assert.Equal("drawn before the checkpoint", File.ReadAllText(TrainingVideo.PathOf(split, step)));
        Assert.Equal(File.ReadAllBytes(TrainingVideo.PathOf(whole, 6144)), File.ReadAllBytes(TrainingVideo.PathOf(split, 6144)));
        Assert.Equal((EpisodeSteps, TrainingVideo.Width, TrainingVideo.Height), Probe(TrainingVideo.PathOf(split, 6144)));
        Assert.False(Directory.EnumerateFiles(Path.Combine(split, TrainingVideo.Folder), "*.tmp").Any());
        // The setting may change at a resume, and sessions.csv says so.
        Train(split, c with { Run = c.Run with { TotalSteps = 4 * Update }, Eval = EvalSettings.Off }, resume: true);
        Assert.Contains("Eval.VideoEveryEnvSteps (checkpoint 2048, now null)", File.ReadAllText(Path.Combine(split, RunDirectory.SessionsFile)));
        Assert.Equal(4, Videos(split).Length);
    }

    /// <summary>Missing EGL or ffmpeg: one line before anything is written.</summary>
    [Theory]
    [InlineData("egl", "error: rendering needs OpenGL through EGL", 1)]
    [InlineData("ffmpeg", "needs ffmpeg, which is not on PATH; install it with: sudo apt-get install ffmpeg", 1)]
    public void WhatCannotBeDrawnIsRefusedInOneLineBeforeAnyFile(string missing, string message, int exitCode)
    {
        Directory.CreateDirectory(_root);
        string dir = Dir("refused");
        var environment = missing switch
        {
            "egl" => new Dictionary<string, string> { [EglContext.PathVariable] = "/nonexistent/libEGL.so.1" },
            "ffmpeg" => new Dictionary<string, string> { ["PATH"] = Directory.CreateDirectory(Dir("no-programs")).FullName },
            _ => null,
        };
        var (code, stdout, stderr) = RunnerProcess.Run(["train", "--preset", "constant", "--envs", "4", "--steps", "2048", "--video-every", "2048", "--out", dir], environment);
        Assert.Equal(exitCode, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(message, line);
        if (missing == "egl") Assert.EndsWith($"sudo apt-get install {EglContext.Packages}", line);
        if (missing == "ffmpeg") Assert.EndsWith("sudo apt-get install ffmpeg (or leave out --video-every)", line);   // not render's "or write a .gif"
        Assert.False(Directory.Exists(dir), stdout);
    }

    /// <summary>
    /// Every built-in env can be drawn; one whose registry entry declares no view (here the test's own Hopper without
    /// one) is refused by the check the trainer makes before it writes anything, naming the envs that can be drawn.
    /// </summary>
    [Fact]
    public void AnEnvThatDeclaresNoViewIsRefused()
    {
        foreach (string id in new[] { EnvRegistry.Ant, EnvRegistry.AntBullet, EnvRegistry.Hopper, EnvRegistry.Walker2d, EnvRegistry.HalfCheetah })
            Assert.True(TrainingVideo.Renders(EnvRegistry.Get(id).Defaults), id);
        const string viewless = "hopper-without-view";
        lock (typeof(TrainingVideoTests))
            if (!EnvRegistry.Contains(viewless))
                EnvRegistry.Register(new EnvSpec(viewless, "Hopper-v3 without a view (tests/Agent/TrainingVideoTests.cs)", "thigh, leg, foot",
                    new EnvConfig(ResetNoise: 5e-3, Name: viewless), (c, seed, i, f) => new HopperEnv(c, seed, i, f)));
        var env = EnvRegistry.Get(viewless).Defaults;
        Assert.False(TrainingVideo.Renders(env));
        var config = Config(Update) with { Env = new EnvSettings("constant", 4, env, FrictionConfig.Constant(1.0)) };
        string? problem = TrainingVideo.Problem(config, Dir("viewless"));
        Assert.NotNull(problem);
        Assert.StartsWith("--video-every draws envs that declare a view (ant, ant-bullet, hopper, walker2d, halfcheetah", problem);
        Assert.EndsWith($"{viewless} declares none, so drop --video-every", problem);
        Assert.False(Directory.Exists(Dir("viewless")));
    }
}
