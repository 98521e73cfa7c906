namespace CbpGpu.Runner.Commands;

/// <summary>What `Runner sweep` was asked for: the runs under <paramref name="Root"/> (methods x <paramref name="Grid"/>'s configurations x seeds), and either K at a time here or a Slurm script.</summary>
public sealed record SweepRequest(string Root, SweepGrid Grid, IReadOnlyList<SweepRun> Runs, int Parallel, SlurmSettings? Slurm)
{
    /// <summary>Lines to print before the sweep starts or its script is written (an option that does not apply), in order; often none.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// Where each run's output goes: DIR/logs/(method)-seed-(n).log (with a grid (method)-(configuration)-seed-(n).log),
    /// outside the run directories so each is exactly what `train` writes.
    /// </summary>
    public string LogDirectory => Path.Combine(Root, "logs");
}

/// <summary>The job-array script to write instead of running: where, and the resources of each array task.</summary>
public sealed record SlurmSettings(string File, int Cpus, string Time, string? Partition, string? Account);
