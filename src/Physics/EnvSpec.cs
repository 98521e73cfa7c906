namespace CbpGpu.Physics;

/// <summary>Makes env <paramref name="index"/> of a run with seed <paramref name="seed"/> at friction <paramref name="friction"/>.</summary>
public delegate IEnv EnvEntryPoint(EnvConfig config, ulong seed, int index, double friction);

/// <summary>
/// One registry entry, as Gymnasium's <c>register(id, entry_point, max_episode_steps, kwargs)</c>: the id that
/// --env, config.json and presets name, how to make the env, and its own task settings (time limit and reset noise
/// in <see cref="Defaults"/>). docs/extending.md#adding-an-environment.
/// </summary>
/// <param name="Summary">One line for help texts: the body and what the friction (the schedulable parameter) sets.</param>
/// <param name="Actions">What the numbers of one action line drive, in order (replay's help).</param>
/// <param name="View">How `render` and `train --video-every` draw it (docs/render.md#envs); null: they refuse it.</param>
public sealed record EnvSpec(string Id, string Summary, string Actions, EnvConfig Defaults, EnvEntryPoint EntryPoint, Rendering.EnvView? View = null);
