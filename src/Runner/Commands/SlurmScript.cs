using System.Globalization;
using System.Text;
using CbpGpu.Agent.Training;
using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner.Commands;

/// <summary>
/// `sweep --emit slurm FILE`: a job-array script with one task per run (method, grid configuration, seed), each running exactly the `train`
/// command a local sweep would run, with --resume-if-present, so a requeued or resubmitted task continues from its
/// checkpoint and the directory layout is the local sweep's (docs/sweeps.md#slurm).
/// </summary>
public static class SlurmScript
{
    public static void Write(SlurmSettings slurm, SweepRequest request, TextWriter output)
    {
        if (request.Runs.FirstOrDefault(r => r.Problem is not null) is { } refused)
            throw new UsageException($"{refused.Name} would be refused: {refused.Problem}; no script was written");
        string text = Text(slurm, request);
        RunDirectory.Guard(request.LogDirectory, "create the log directory", () => Directory.CreateDirectory(request.LogDirectory));
        RunDirectory.Guard(slurm.File, "write", () => File.WriteAllText(slurm.File, text));
        output.WriteLine($"wrote {slurm.File}: a job array of {request.Runs.Count} task{(request.Runs.Count == 1 ? "" : "s")} ({slurm.Cpus} CPU{(slurm.Cpus == 1 ? "" : "s")}, {slurm.Time} each); submit it with: sbatch {slurm.File}");
        string layout = request.Grid.IsEmpty ? "<method>/seed-<n>" : "<method>/<configuration>/seed-<n>";
        output.WriteLine($"runs go to {Path.GetFullPath(request.Root)}/{layout}/, Slurm's output to {Path.GetFullPath(request.LogDirectory)}/");
    }

    public static string Text(SlurmSettings slurm, SweepRequest request)
    {
        var sb = new StringBuilder();
        sb.Append("#!/bin/bash\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name=cbpgpu-sweep\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --array=0-{request.Runs.Count - 1}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={slurm.Cpus}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --time={slurm.Time}\n");
        if (slurm.Partition is string p) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={p}\n");
        if (slurm.Account is string a) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --account={a}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={Path.GetFullPath(request.LogDirectory)}/slurm-%A_%a.log\n");
        sb.Append("#SBATCH --open-mode=append\n");
        // Requeued (preemption, node failure) tasks rerun this script, which resumes from the checkpoint.
        sb.Append("#SBATCH --requeue\n");
        sb.Append("# Written by `Runner sweep ... --emit slurm` (docs/sweeps.md#slurm): one array task per method, grid configuration and seed,\n");
        sb.Append("# each runs `Runner train ... --resume-if-present`: a requeued or resubmitted task continues from its checkpoint.\n");
        sb.Append("# On the time limit Slurm sends SIGTERM: the run finishes its update, checkpoints and exits 143.\n");
        sb.Append("set -euo pipefail\n");
        sb.Append(CultureInfo.InvariantCulture, $"cd {Quote(Directory.GetCurrentDirectory())}\n");
        sb.Append("case \"${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is a job array)}\" in\n");
        for (int i = 0; i < request.Runs.Count; i++)
        {
            var run = request.Runs[i];
            sb.Append(CultureInfo.InvariantCulture, $"  {i}) set -- {string.Join(' ', run.TrainArgs.Select(Quote))} ;;  # {run.Name}\n");
        }
        sb.Append("  *) echo \"error: array task $SLURM_ARRAY_TASK_ID is not in this sweep\" >&2; exit 2 ;;\n");
        sb.Append("esac\n");
        // exec: the Runner itself receives Slurm's signals and its exit code is the task's.
        sb.Append(CultureInfo.InvariantCulture, $"exec {string.Join(' ', RunnerExecutable.Command.Select(Quote))} \"$@\"\n");
        return sb.ToString();
    }

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))
            ? word
            : $"'{word.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
