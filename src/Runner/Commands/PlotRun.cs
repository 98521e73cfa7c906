using System.Globalization;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;

namespace CbpGpu.Runner.Commands;

/// <summary>One run directory as `Runner plot` reads it (docs/formats.md#run-directory): its config, episodes and update rows.</summary>
public sealed class PlotRun
{
    private PlotRun(string directory, TrainConfig config, List<(long, double, double)> episodes, string[] columns, List<double[]> updates)
    {
        Directory = directory;
        Config = config;
        Episodes = episodes;
        Columns = columns;
        Updates = updates;
    }

    public string Directory { get; }
    public TrainConfig Config { get; }
    public string Method => MethodWord(Config.Ppo.Method);
    public ulong Seed => Config.Run.Seed;

    /// <summary>The label of the line this run is averaged into: its method, and for grids what sets its configuration apart (<see cref="PlotLines"/>).</summary>
    public string Line { get; private set; } = "";

    public string Name => $"{Line} seed {Seed}";

    /// <summary>Finished episodes: step at the end, return, friction.</summary>
    public IReadOnlyList<(long Step, double Return, double Friction)> Episodes { get; }

    /// <summary>updates.csv's header and its complete rows.</summary>
    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<double[]> Updates { get; }

    /// <summary>Lines of its CSV logs that are not rows (a wrong field count or a field that is not a number), as warnings naming file and line.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>The run's last step: its budget when sessions.csv says it finished, else the last complete updates.csv row's.</summary>
    public long LastStep => Finished ? Config.Run.TotalSteps : Updates.Count == 0 ? 0 : (long)Updates[^1][1];

    /// <summary>
    /// sessions.csv's last event is `finished` at the run's budget: the run is done even when updates.csv's last row was
    /// cut afterwards (issue 25).
    /// </summary>
    public bool Finished => _finished ??= ReadFinished();

    private bool? _finished;

    public bool Partial => !Finished && LastStep < Config.Run.TotalSteps;

    private bool ReadFinished()
    {
        string path = Path.Combine(Directory, RunDirectory.SessionsFile);
        if (!File.Exists(path)) return false;
        string[] lines = RunDirectory.Guard(path, "read", () => File.ReadAllLines(path));
        string[] last = lines.Length > 1 ? lines[^1].Split(',') : [];
        return last.Length >= 4 && last[1] == "finished" && last[2] == last[3]
            && long.TryParse(last[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out long step) && step == Config.Run.TotalSteps;
    }

    /// <summary>The rollout shape the figures' titles state: envs x steps of each per update.</summary>
    public string RolloutShape => $"{Config.RolloutShape} per update";

    /// <summary>The method's --method word (config.json reading refuses a method that is not registered).</summary>
    public static string MethodWord(PpoMethod method) => MethodRegistry.Get(method).Word;

    /// <summary>
    /// The runs under each path: the path itself when it holds config.json (a `train` directory), else every
    /// (method)/seed-(n)/ and (method)/(configuration)/seed-(n)/ below it that does (a sweep, with or without a grid).
    /// A path with neither is an error naming what was expected. The runs come back in the figures' order of their
    /// lines (<see cref="PlotLines"/>), in the order found within a line.
    /// </summary>
    public static List<PlotRun> Find(IEnumerable<string> paths)
    {
        var runs = new List<PlotRun>();
        foreach (string path in paths)
        {
            if (File.Exists(Path.Combine(path, RunDirectory.ConfigFile)))
            {
                runs.Add(Load(path));
                continue;
            }
            static IEnumerable<string> Seeds(string dir) => System.IO.Directory.GetDirectories(dir, "seed-*");
            var found = System.IO.Directory.Exists(path)
                ? System.IO.Directory.GetDirectories(path)
                    .SelectMany(m => Seeds(m).Concat(System.IO.Directory.GetDirectories(m).SelectMany(Seeds)))
                    .Where(d => File.Exists(Path.Combine(d, RunDirectory.ConfigFile))).Order(StringComparer.Ordinal).ToList()
                : [];
            if (found.Count == 0)
                throw new UserFacingException(
                    $"{path} holds no runs: expected {Path.Combine(path, RunDirectory.ConfigFile)} (a `train` --out) or {Path.Combine(path, "<method>", "seed-<n>", RunDirectory.ConfigFile)} " +
                    $"or {Path.Combine(path, "<method>", "<configuration>", "seed-<n>", RunDirectory.ConfigFile)} (a `sweep` --out)");
            runs.AddRange(found.Select(Load));
        }
        var (labels, ranks) = PlotLines.For([.. runs.Select(r => r.Config)]);
        for (int i = 0; i < runs.Count; i++) runs[i].Line = labels[i];
        return [.. runs.Select((r, i) => (r, i)).OrderBy(x => ranks[x.i]).Select(x => x.r)];
    }

    private static PlotRun Load(string dir)
    {
        string configPath = Path.Combine(dir, RunDirectory.ConfigFile);
        TrainConfig config;
        try
        {
            config = TrainConfig.FromJson(RunDirectory.Guard(configPath, "read", () => File.ReadAllText(configPath)));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new UserFacingException($"{configPath} is not a run configuration ({e.Message}); plot reads directories written by `train` or `sweep`");
        }
        var warnings = new List<string>();
        var episodes = new List<(long, double, double)>();
        foreach (var row in Rows(Path.Combine(dir, RunDirectory.EpisodesFile), out _, warnings))
            episodes.Add(((long)row[0], row[2], row[4]));
        var updates = Rows(Path.Combine(dir, RunDirectory.UpdatesFile), out string[] columns, warnings).ToList();
        var run = new PlotRun(dir, config, episodes, columns, updates);
        run.Warnings.AddRange(warnings);
        return run;
    }

    /// <summary>A CSV log's complete rows as numbers (a row still being written, or cut by a kill, is left out).</summary>
    private static IEnumerable<double[]> Rows(string path, out string[] header, List<string>? warnings = null)
    {
        if (!File.Exists(path))
        {
            header = [];
            return [];
        }
        string text = RunDirectory.Guard(path, "read", () =>
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new StreamReader(s).ReadToEnd();
        });
        string[] lines = text.Split('\n');
        header = lines[0].Split(',');
        int n = header.Length;
        var rows = new List<double[]>();
        // The last element follows the last '\n': empty, or a row not yet complete.
        for (int i = 1; i < lines.Length - 1; i++)
        {
            string[] f = lines[i].Split(',');
            var row = new double[n];
            bool ok = f.Length == n;
            for (int j = 0; j < n && ok; j++) ok = double.TryParse(f[j], NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]);
            if (ok) rows.Add(row);
            // A complete line that is not a row: said, with where it is, rather than dropped unseen (issue 25).
            else warnings?.Add(string.Create(CultureInfo.InvariantCulture,
                $"warning: {path} line {i + 1} is not a row of {n} numbers ({(f.Length != n ? $"{f.Length} field{(f.Length == 1 ? "" : "s")}" : "a field is not a number")}); skipped"));
        }
        return rows;
    }

    private IReadOnlyList<(long Step, double Return, double Friction)>? _evals;

    /// <summary>eval.csv's complete rows (docs/formats.md#evalcsv): step, mean return of the evaluation, friction; empty without one.</summary>
    public IReadOnlyList<(long Step, double Return, double Friction)> Evals => _evals ??= LoadEvals();

    /// <summary>What the return-against-friction figure reads: the evaluations when the run has them, else its training episodes.</summary>
    public IReadOnlyList<(long Step, double Return, double Friction)> ReturnsAtFriction => Evals.Count > 0 ? Evals : Episodes;

    private List<(long, double, double)> LoadEvals()
    {
        var rows = Rows(Path.Combine(Directory, RunDirectory.EvalFile), out string[] header).ToList();
        int step = Array.IndexOf(header, "step"), ret = Array.IndexOf(header, "return_mean"), friction = Array.IndexOf(header, "friction");
        if (rows.Count > 0 && (step < 0 || ret < 0 || friction < 0))
            throw new UserFacingException($"{Path.Combine(Directory, RunDirectory.EvalFile)} lacks the step, return_mean or friction column; plot reads eval.csv as `train` writes it (docs/formats.md#evalcsv)");
        return [.. rows.Select(r => ((long)r[step], r[ret], r[friction]))];
    }

    private IReadOnlyList<(long Step, double DormantShare, double StableRankPercent)>? _activity;

    /// <summary>activity.csv's complete rows (docs/formats.md#activitycsv): step, dormant share, stable rank % (NaN between ranks); empty without one.</summary>
    public IReadOnlyList<(long Step, double DormantShare, double StableRankPercent)> Activity => _activity ??= LoadActivity();

    private List<(long, double, double)> LoadActivity()
    {
        var rows = Rows(Path.Combine(Directory, RunDirectory.ActivityFile), out string[] header).ToList();
        int step = Array.IndexOf(header, "step"), dormant = Array.IndexOf(header, "dormant_share"), rank = Array.IndexOf(header, "stable_rank_percent");
        if (rows.Count > 0 && (step < 0 || dormant < 0 || rank < 0))
            throw new UserFacingException($"{Path.Combine(Directory, RunDirectory.ActivityFile)} lacks the step, dormant_share or stable_rank_percent column; plot reads activity.csv as `train` writes it (docs/formats.md#activitycsv)");
        return [.. rows.Select(r => ((long)r[step], r[dormant], r[rank]))];
    }

    /// <summary>The values of one updates.csv column, with the step of each row; empty when the run has no such column.</summary>
    public (double[] Steps, double[] Values) Column(string name)
    {
        int c = Columns.ToList().IndexOf(name);
        if (c < 0) return ([], []);
        return ([.. Updates.Select(r => r[1])], [.. Updates.Select(r => r[c])]);
    }
}
