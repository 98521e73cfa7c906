using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Settings;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// `Runner sweep`: one `train` run per (method, grid configuration, seed) under one directory, K at a time as child processes, or a
/// Slurm job-array script that runs the same commands (docs/sweeps.md).
/// </summary>
public sealed class SweepCommand : RunnerCommand
{
    /// <summary>
    /// Runs side by side by default: one per core. One run keeps about one core busy (its env stepping and its
    /// single-threaded PPO update take turns), so K = cores fills the machine without oversubscribing it. Measured
    /// on the 2-core machine (docs/sweeps.md#throughput): 2 runs did 1.67x the env steps/s of one.
    /// </summary>
    public static int DefaultParallel => Environment.ProcessorCount;

    private readonly TrainCommand _train = new();

    private readonly Option<string> _methods = OptionFactory.Text("--methods", "LIST", $"methods to run, comma-separated, from {string.Join(',', MethodRegistry.All.Select(m => m.Word))}", required: true);
    private readonly Option<string> _seeds = OptionFactory.Text("--seeds", "LIST", "seeds: 0-9, 1,3,5 or 0-4,10 (each method runs with each)", required: true);
    private readonly Option<string> _out = OptionFactory.Text(
        "--out", "DIR", "sweep directory: one run directory per method and seed, DIR/<method>/seed-<n>/ (with --grid: DIR/<method>/<configuration>/seed-<n>/), and logs/", required: true);

    private readonly Option<string> _grid = OptionFactory.Text(
        GridName, "AXES",
        "train flags to vary, as axes whose product is the configurations each method and seed runs: \"replacement-rate=1e-3,1e-4 maturity=500,5000\" " +
        "(4 configurations) or, for flags that vary together, \"replacement-rate,maturity=1e-3:500,1e-4:5000\" (2); see docs/sweeps.md#grids (default: none)",
        required: false);

    private readonly Option<string> _gridFile = OptionFactory.Text(
        GridFileName, "FILE", $"read {GridName}'s axes from FILE: whitespace or lines between axes, '#' comments (default: none)", required: false);

    private readonly Option<int> _parallel = OptionFactory.Count(
        "--parallel", "K", "runs at a time (default: this machine's core count); each run's --threads defaults to cores / K", DefaultParallel, 1, 1024);

    private readonly Option<string[]> _emit = new("--emit")
    {
        HelpName = "slurm FILE",
        Description = "write a Slurm job-array script to FILE (one array task per run: method x configuration x seed) instead of running (default: run here)",
        Arity = new ArgumentArity(2, 2),
        AllowMultipleArgumentsPerToken = true,
    };

    private readonly Option<bool> _status = OptionFactory.Switch("--status",
        "print where each run stands (finished, running, failed, stopped at step N, not started), from its directory, and exit; starts nothing");
    private readonly Option<int> _slurmCpus = OptionFactory.Count("--slurm-cpus", "N", "Slurm: CPUs per task (--cpus-per-task; also the run's --threads)", 2, 1, 1024);
    private readonly Option<string> _slurmTime = OptionFactory.Text("--slurm-time", "T", "Slurm: time limit per task (--time), e.g. 2-00:00:00", required: false);
    private readonly Option<string> _slurmPartition = OptionFactory.Text("--slurm-partition", "P", "Slurm: partition (default: the cluster's)", required: false);
    private readonly Option<string> _slurmAccount = OptionFactory.Text("--slurm-account", "A", "Slurm: account (default: the user's)", required: false);
    private readonly Option[] _slurmOptions;

    public const string GridName = "--grid", GridFileName = "--grid-file";

    public SweepCommand() : base("sweep", "train every method x grid configuration x seed, K runs at a time (or emit a Slurm job array)", $"""
        Every other option is `train`'s and applies to every run (a method's own options, like CBP's, to its runs only). Each run is
        `Runner train --method M --seed S --out DIR/M/seed-S --resume-if-present ...` in its own process, with its
        output in DIR/logs/M-seed-S.log: a run directory is exactly what `train` writes.

        With --grid every method runs every configuration of the grid (varying the grid's flags it takes: a method's own
        flags vary its runs only) with every seed, in DIR/M/CONF/seed-S, CONF naming the configuration's flags sorted
        (maturity=500,replacement-rate=1e-3), each value in one spelling (0.001 is 1e-3). Flags are named without
        their dashes; values are checked by train before anything runs.

        The same command with --status says where each run stands and starts nothing: finished, running (another
        process, a sweep or a Slurm task, holds its directory), failed (with its error), stopped at its checkpoint's
        step, or not started.

        Running the same command again continues unfinished runs from their checkpoints and skips finished ones. A run
        that fails does not stop the others; the sweep ends with the failed runs, each with its error, and exit code 1.
        SIGINT, SIGTERM or SIGHUP is passed on to the runs, which checkpoint; the sweep exits with 128 + the signal
        number once they have.

        Results do not depend on K or on the order runs start: each run is its own process with its own torch threads
        (1 unless given), and the MuJoCo thread count (cores / K unless given) does not change results.
        """)
    {
        _slurmTime.DefaultValueFactory = _ => "24:00:00";
        _slurmOptions = [_slurmCpus, _slurmTime, _slurmPartition, _slurmAccount];
        Option[] own = [_methods, _seeds, _out, _grid, _gridFile, _parallel, _emit, _status, .. _slurmOptions];
        foreach (var option in own) Add(option);
        foreach (var option in _train.PerRunOptions) Add(option);
        SetAction(Run);
    }

    private static bool Given(ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>The runs these options ask for; throws <see cref="UsageException"/> for a sweep that cannot start.</summary>
    public SweepRequest Read(ParseResult result)
    {
        var methods = ReadMethods(result.GetValue(_methods)!);
        var seeds = ReadSeeds(result.GetValue(_seeds)!);
        string root = result.GetValue(_out)!;
        string[]? emit = result.GetValue(_emit) is { Length: 2 } pair ? pair : null;
        if (emit is not null && !string.Equals(emit[0], "slurm", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"--emit knows one format, slurm, not '{emit[0]}'; use --emit slurm FILE");
        if (emit is null)
            foreach (var option in _slurmOptions)
                if (Given(result, option)) throw new UsageException($"{option.Name} only applies with --emit slurm FILE; drop it or add --emit slurm FILE");
        // The local sweep's command repeated with --emit slurm: its --parallel has no meaning there, and says so.
        string[] notes = emit is not null && Given(result, _parallel)
            ? [$"note: --parallel {result.GetValue(_parallel)} does not apply with --emit slurm (Slurm decides how many tasks run at once; --slurm-cpus sets each task's cores); ignored"]
            : [];

        var grid = ReadGrid(result, methods);

        int parallel = result.GetValue(_parallel);
        // MuJoCo threads: a share of the cores here, the task's CPUs on Slurm; a --threads given (or varied) wins.
        const string threadsFlag = "--threads";
        int? threads = Given(result, _train.PerRunOptions.First(o => o.Name == threadsFlag)) || grid.Varies(threadsFlag) ? null
            : emit is null ? Math.Max(1, Environment.ProcessorCount / parallel) : result.GetValue(_slurmCpus);

        var runs = new List<SweepRun>();
        foreach (string method in methods)
        {
            var id = _train.MethodOf(method)!.Value;
            string[] passed = [.. PassedOptions(result, id)];
            foreach (var configuration in grid.ConfigurationsFor(flag => _train.AppliesTo(_train.PerRunOptions.First(o => o.Name == flag), id)))
                foreach (long seed in seeds)
                {
                    string seedText = seed.ToString(CultureInfo.InvariantCulture);
                    string dir = configuration.IsEmpty ? Path.Combine(root, method, $"seed-{seedText}") : Path.Combine(root, method, configuration.Name, $"seed-{seedText}");
                    string[] args =
                    [
                        "train", "--method", method, "--seed", seedText, "--out", dir, "--resume-if-present",
                        .. passed, .. configuration.Args, .. threads is int t ? new[] { threadsFlag, t.ToString(CultureInfo.InvariantCulture) } : [],
                    ];
                    runs.Add(SweepRun.Plan(method, configuration, seed, dir, args));
                }
        }
        var slurm = emit is null ? null : new SlurmSettings(
            emit[1], result.GetValue(_slurmCpus), result.GetValue(_slurmTime)!, result.GetValue(_slurmPartition), result.GetValue(_slurmAccount));
        return new SweepRequest(root, grid, runs, parallel, slurm) { Notes = notes };
    }

    /// <summary>--grid or --grid-file, checked against train's flags (docs/sweeps.md#grids); <see cref="SweepGrid.None"/> without either.</summary>
    private SweepGrid ReadGrid(ParseResult result, IReadOnlyList<string> methods)
    {
        string? text = result.GetValue(_grid), file = result.GetValue(_gridFile);
        if (text is not null && file is not null) throw new UsageException($"{GridName} and {GridFileName} are both given; give one");
        string source = GridName;
        if (file is not null)
        {
            text = ReadGridFile(file);
            source = $"{GridFileName} {file}";
        }
        if (text is null) return SweepGrid.None;
        var given = _train.PerRunOptions.Where(o => Given(result, o)).Select(o => o.Name).ToHashSet();
        // A method's own flag varied while no method of the sweep takes it.
        string? NoMethodTakes(string flag)
        {
            var option = _train.PerRunOptions.First(o => o.Name == flag);
            if (_train.OwnerOf(option) is not { } owner || methods.Any(m => _train.AppliesTo(option, _train.MethodOf(m)!.Value))) return null;
            string words = string.Join(" or ", owner.Methods.Select(m => m.Word));
            return $"applies to --method {words} only, and --methods has no {words}";
        }
        return SweepGrid.Parse(text, source, _train.PerRunOptions.Select(o => o.Name).ToHashSet(), NoMethodTakes, given);
    }

    /// <summary>A --grid-file's text; unreadable is a usage error naming the file.</summary>
    public static string ReadGridFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{GridFileName} {path}: cannot read it: {e.Message}");
        }
    }

    /// <summary>The per-run options given on this command line, as they were typed (alias and values).</summary>
    private IEnumerable<string> PassedOptions(ParseResult result, PpoMethod method)
    {
        foreach (var option in _train.PerRunOptions)
        {
            if (result.GetResult(option) is not OptionResult { Implicit: false } given) continue;
            if (!_train.AppliesTo(option, method)) continue;
            yield return given.IdentifierToken?.Value ?? option.Name;
            foreach (var token in given.Tokens) yield return token.Value;
        }
    }

    private string[] ReadMethods(string text)
    {
        var words = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var methods = new List<string>();
        foreach (string word in words)
        {
            string? method = _train.MethodWords.FirstOrDefault(m => string.Equals(m, word, StringComparison.OrdinalIgnoreCase));
            if (method is null) throw new UsageException($"--methods: '{word}' is not a method; methods are {string.Join(',', _train.MethodWords)}");
            if (methods.Contains(method)) throw new UsageException($"--methods names {method} twice; name each method once");
            methods.Add(method);
        }
        if (methods.Count == 0) throw new UsageException($"--methods needs at least one of {string.Join(',', _train.MethodWords)}");
        return [.. methods];
    }

    /// <summary>"0-9", "1,3,5", "0-4,10": each seed once, in the order given.</summary>
    public static long[] ReadSeeds(string text)
    {
        var seeds = new List<long>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] ends = part.Split('-');
            if (ends.Length is < 1 or > 2 || !ends.All(e => long.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                throw new UsageException($"--seeds: '{part}' is not a seed or a range; write seeds like 0-9, 1,3,5 or 0-4,10");
            long first = long.Parse(ends[0], CultureInfo.InvariantCulture), last = long.Parse(ends[^1], CultureInfo.InvariantCulture);
            if (last < first) throw new UsageException($"--seeds: range {part} runs backwards; write {last}-{first}");
            if (last - first >= 100_000) throw new UsageException($"--seeds: range {part} holds more than 100,000 seeds");
            for (long s = first; s <= last; s++)
            {
                if (seeds.Contains(s)) throw new UsageException($"--seeds names seed {s} twice; name each seed once");
                seeds.Add(s);
            }
        }
        return [.. seeds];
    }

    private int Run(ParseResult result)
    {
        var request = Read(result);
        var output = result.InvocationConfiguration.Output;
        var error = result.InvocationConfiguration.Error;
        if (result.GetValue(_status))
        {
            if (request.Slurm is not null) throw new UsageException("--status and --emit are both given; give one (--status reads the run directories a script's tasks write)");
            SweepScheduler.Status(request, output);
            return 0;
        }
        foreach (string note in request.Notes) output.WriteLine(note);
        if (request.Slurm is SlurmSettings slurm)
        {
            SlurmScript.Write(slurm, request, output);
            return 0;
        }
        using var stop = new StopSignals(error);
        var outcome = new SweepScheduler(request, output).Run(stop);
        if (outcome.Stopped) return stop.ExitCode;
        if (outcome.Failed > 0)
        {
            error.WriteLine($"error: {outcome.Failed} of {request.Runs.Count} runs failed (listed above, each with its log); fix the cause and rerun the same command: finished runs are skipped, the others continue");
            return RunnerCommandLine.Failed;
        }
        return 0;
    }
}
