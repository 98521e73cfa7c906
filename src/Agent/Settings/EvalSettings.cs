using System.Text.Json.Serialization;
using CbpGpu.Agent.Training;

namespace CbpGpu.Agent.Settings;

/// <summary>
/// Evaluation during training (docs/evaluation.md): every <paramref name="EveryEnvSteps"/> env steps (summed over envs),
/// <paramref name="Episodes"/> episodes with the policy's mean action on an env of its own, at the friction training env 0
/// has at that moment, off the training path. Off is (0, 0): no evaluation, no eval.csv.
/// </summary>
/// <param name="EveryEnvSteps">An evaluation follows each update that reaches a multiple of this; 0: off.</param>
/// <param name="Episodes">Episodes per evaluation, run side by side; 0 exactly when off.</param>
/// <param name="VideoEveryEnvSteps">
/// A video of one evaluation episode follows each update that reaches a multiple of this (docs/render.md#during-training),
/// independently of the evaluations; 0: off. Left out of config.json when off, so runs without videos write the same
/// file as before the setting existed, and older files read as off.
/// </param>
public sealed record EvalSettings(long EveryEnvSteps, int Episodes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long VideoEveryEnvSteps = 0)
{
    /// <summary>The most episodes one evaluation runs (they run side by side on one thread, each with its own Ant).</summary>
    public const int MaxEpisodes = 1000;

    /// <summary>Episodes per evaluation when --eval-episodes is not given: enough for a mean and a spread, ~1 s on one core.</summary>
    public const int DefaultEpisodes = 10;

    public static EvalSettings Off { get; } = new(0, 0);

    [JsonIgnore]
    public bool Enabled => EveryEnvSteps > 0;

    [JsonIgnore]
    public bool VideosEnabled => VideoEveryEnvSteps > 0;

    /// <summary>
    /// The preset's evaluation period when --eval-every is not given (docs/evaluation.md#defaults): every 100,000 steps in
    /// the paper presets (200 points in a 20M run, 20 per nature2024 friction period), off for `constant`, the quick
    /// sanity and throughput preset, whose README numbers measure training alone.
    /// </summary>
    public static long DefaultEvery(string preset) => preset == "constant" ? 0 : 100_000;

    /// <summary>Why these settings cannot run, or null.</summary>
    public string? Validate()
    {
        if (EveryEnvSteps < 0) return $"the evaluation period must be >= 0 env steps (0: off), got {EveryEnvSteps}";
        if (Enabled != (Episodes > 0))
            return Enabled ? $"evaluation every {EveryEnvSteps:N0} steps needs at least one episode" : $"evaluation is off but {Episodes} episodes were given";
        if (Episodes > MaxEpisodes) return $"at most {MaxEpisodes} evaluation episodes, got {Episodes}";
        if (VideoEveryEnvSteps < 0) return $"the video period must be >= 0 env steps (0: off), got {VideoEveryEnvSteps}";
        return null;
    }

    /// <summary>True when an update that took the run from <paramref name="before"/> to <paramref name="after"/> env steps reached a multiple of the period.</summary>
    public bool DueAfter(long before, long after) => Enabled && after / EveryEnvSteps > before / EveryEnvSteps;

    /// <summary>As <see cref="DueAfter"/>, for the videos' period.</summary>
    public bool VideoDueAfter(long before, long after) => VideosEnabled && after / VideoEveryEnvSteps > before / VideoEveryEnvSteps;

    /// <summary>Evaluation's settings, a flag each, declared once (docs/extending.md#settings).</summary>
    public static class Flags
    {
        public static readonly Setting Every = Setting<EvalSettings>.LongCount(
            "--eval-every", "N",
            "evaluate every N env steps (summed over envs; at the first update that reaches each multiple, and at step 0): " +
            $"--eval-episodes episodes with the mean action at training env 0's current friction, on a thread of its own, into {RunDirectory.EvalFile}; 0: off",
            nameof(EveryEnvSteps), 0L, 10_000_000_000L, e => e.EveryEnvSteps, (e, v) => e with { EveryEnvSteps = v }) with
        {
            ReadByRule = true,
            DefaultNote = $" (default: the preset's: nature2024, nature2024-ant, seed2023 {DefaultEvery("nature2024"):N0}; constant off)",
        };

        public static readonly Setting Episodes = Setting<EvalSettings>.Count(
            "--eval-episodes", "K", "episodes per evaluation, run side by side", nameof(Episodes), 1, MaxEpisodes,
            e => e.Episodes, (e, v) => e with { Episodes = v }) with
        {
            ReadByRule = true,
            DefaultNote = $" (default: {DefaultEpisodes}; needs evaluation on)",
            AppliesTo = e => ((EvalSettings)e).Enabled,
        };

        public static readonly Setting VideoEvery = Setting<EvalSettings>.LongCount(
            "--video-every", "N",
            "draw one evaluation episode of the policy (mean action, one episode's steps, 640x480, as render) every N env steps and at step 0 " +
            "into videos/step-<step>.mp4, on a thread of its own; every env with a view (docs/render.md#envs); needs EGL and ffmpeg (docs/render.md#during-training)",
            nameof(VideoEveryEnvSteps), 0L, 10_000_000_000L, e => e.VideoEveryEnvSteps, (e, v) => e with { VideoEveryEnvSteps = v }) with
        {
            Default = 0L,
            AppliesTo = e => ((EvalSettings)e).VideosEnabled,
        };

        /// <summary>In --help's order.</summary>
        public static IReadOnlyList<Setting> All { get; } = [Every, Episodes, VideoEvery];
    }
}
