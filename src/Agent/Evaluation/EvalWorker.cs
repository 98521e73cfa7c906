using System.Diagnostics;
using System.Runtime.InteropServices;
using CbpGpu.Agent.Networks;
using System.Runtime.ExceptionServices;
using CbpGpu.Agent.Rendering;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Evaluation;

/// <summary>
/// What a <see cref="PolicyWorker{TResult}"/> runs on a copy of the training weights: a function of the weights, the
/// friction and the step, with networks and envs of its own (an evaluation, a video).
/// </summary>
public interface IPolicyJob<TResult> : IDisposable
{
    /// <summary>Floats in the flat parameters the job takes (<see cref="FlatParameters.Data"/>'s layout).</summary>
    int ParameterCount { get; }

    TResult Run(ReadOnlySpan<float> weights, double friction, long step, int update, double elapsedSeconds);
}

/// <summary>Runs evaluations (<see cref="PolicyEvaluation"/>) beside training; results go to eval.csv through the trainer.</summary>
public sealed class EvalWorker(PolicyEvaluation evaluation) : PolicyWorker<EvalResult>(evaluation, "evaluation", "eval");

/// <summary>
/// Runs jobs on the training weights on a thread of their own (docs/evaluation.md#off-the-training-path): the trainer
/// hands over a copy of the weights and the friction, and goes on training while the worker runs the job. Results come
/// back in the order they were submitted (one worker, first in first out) for the trainer to write: an evaluation
/// worker never touches a run file, a video worker writes only its own video files (docs/render.md#during-training).
/// It uses no training state: its own networks, its own Ants, no generator, so training computes the same bytes
/// with and without it.
/// </summary>
public class PolicyWorker<TResult> : IDisposable
{
    private readonly IPolicyJob<TResult> _job;
    private readonly string _what;
    private readonly Thread _thread;
    private readonly object _gate = new();
    private readonly Queue<Job> _jobs = new();
    private readonly Queue<Outcome> _done = new();
    private bool _closing;
    private int _running;      // 1 while the worker runs a job taken from _jobs
    private double _busySeconds;

    private sealed record Job(float[] Weights, double Friction, long Step, int Update, double ElapsedSeconds);

    private readonly record struct Outcome(TResult? Result, Exception? Error, long Step);

    /// <param name="what">What a failure message calls one job ("evaluation", "video").</param>
    public PolicyWorker(IPolicyJob<TResult> job, string what, string threadName)
    {
        _job = job;
        _what = what;
        _thread = new Thread(Work) { IsBackground = true, Name = threadName };
        _thread.Start();
    }

    /// <summary>Wall time the worker spent evaluating, summed over its evaluations so far.</summary>
    public double BusySeconds
    {
        get
        {
            lock (_gate) return _busySeconds;
        }
    }

    /// <summary>Copies the current weights and queues an evaluation of them at <paramref name="friction"/>; returns at once.</summary>
    public void Submit(FlatParameters parameters, double friction, long step, int update, double elapsedSeconds)
    {
        var weights = new float[_job.ParameterCount];
        using (var cpu = parameters.Data.cpu())
            MemoryMarshal.Cast<byte, float>(cpu.bytes).CopyTo(weights);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            _jobs.Enqueue(new Job(weights, friction, step, update, elapsedSeconds));
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The next finished job in submission order, if it is finished; a job that failed throws here.</summary>
    public bool TryTake(out TResult result)
    {
        Outcome outcome;
        lock (_gate)
        {
            if (!_done.TryDequeue(out outcome))
            {
                result = default!;
                return false;
            }
        }
        if (outcome.Error is InvalidDataException or PhysicsException or VideoException or IOException)
            throw new TrainingException($"{_what} at step {outcome.Step:N0} failed: {outcome.Error.Message}", outcome.Error);
        if (outcome.Error is not null) ExceptionDispatchInfo.Throw(outcome.Error);   // a bug: an internal error with its trace
        result = outcome.Result!;
        return true;
    }

    /// <summary>Blocks until every submitted job has finished; returns the seconds it waited.</summary>
    public double WaitAll()
    {
        long start = Stopwatch.GetTimestamp();
        lock (_gate)
            while (_jobs.Count > 0 || _running > 0) Monitor.Wait(_gate);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private void Work()
    {
        while (true)
        {
            Job job;
            lock (_gate)
            {
                while (_jobs.Count == 0 && !_closing) Monitor.Wait(_gate);
                if (_closing) return;
                job = _jobs.Dequeue();
                _running = 1;
            }
            Outcome outcome;
            long start = Stopwatch.GetTimestamp();
            try
            {
                outcome = new Outcome(_job.Run(job.Weights, job.Friction, job.Step, job.Update, job.ElapsedSeconds), null, job.Step);
            }
            catch (Exception e)
            {
                // Any exception leaving this thread would end the process; the trainer rethrows it where it takes the result.
                outcome = new Outcome(default, e, job.Step);
            }
            lock (_gate)
            {
                _busySeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
                _done.Enqueue(outcome);
                _running = 0;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Stops the worker after the job it is running (queued ones are dropped) and releases its networks.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
        _job.Dispose();
    }
}
