using System.Globalization;

namespace CbpGpu.Physics;

/// <summary>
/// Plays a fixed action sequence on one env of the registry from its rest pose (no reset noise) and writes one CSV line
/// per step, <c>reward,terminated,obs_0,...</c>, so another implementation of the same task can be compared value by value.
/// </summary>
public static class EnvReplay
{
    /// <summary>Reads one action per line, <paramref name="actionSize"/> comma-separated finite numbers; blank lines are skipped.</summary>
    /// <exception cref="FormatException">A line has the wrong column count or a value that is not a finite number; the message names the line.</exception>
    public static List<float[]> ParseActions(TextReader reader, int actionSize)
    {
        var rows = new List<float[]>();
        int lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string[] parts = line.Split(',');
            if (parts.Length != actionSize)
                throw new FormatException($"line {lineNumber}: expected {actionSize} comma-separated numbers, got {parts.Length}");
            var row = new float[actionSize];
            for (int k = 0; k < parts.Length; k++)
            {
                string p = parts[k].Trim();
                if (!float.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out float v))
                    throw new FormatException($"line {lineNumber}: value {k + 1} '{p}' is not a number");
                if (!float.IsFinite(v))
                    throw new FormatException($"line {lineNumber}: value {k + 1} is {p}; actions must be finite");
                row[k] = v;
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Runs the actions in order, stopping after a termination; returns the number of steps written.</summary>
    /// <param name="config">The env; its time limit and reset noise are replaced by none.</param>
    /// <param name="friction">The env's friction (<see cref="IEnv.Friction"/>; what it sets, each env's spec says).</param>
    public static int Run(EnvConfig config, double friction, IReadOnlyList<float[]> actions, TextWriter output)
    {
        using var env = EnvRegistry.Create(config with { MaxEpisodeSteps = int.MaxValue, ResetNoise = 0.0 }, seed: 0, index: 0, friction);
        var obs = new float[env.ObservationSize];
        var line = new System.Text.StringBuilder();
        int steps = 0;
        foreach (var a in actions)
        {
            var r = env.Step(a, obs);
            steps++;
            line.Clear();
            line.Append(r.Reward.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(r.Terminated ? '1' : '0');
            foreach (float o in obs) line.Append(',').Append(o.ToString("R", CultureInfo.InvariantCulture));
            output.WriteLine(line);
            if (r.Terminated) break;
        }
        return steps;
    }
}
