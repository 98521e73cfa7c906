using System.Diagnostics;
using System.Runtime.InteropServices;
using CbpGpu.Agent.Networks;
using System.Runtime.ExceptionServices;
using CbpGpu.Agent.Training;
using CbpGpu.Physics;
using static TorchSharp.torch;

namespace CbpGpu.Agent.Evaluation;

/// <summary>
/// Runs evaluations on a thread of their own (docs/evaluation.md#off-the-training-path): the trainer hands over a copy of
/// the weights and the friction, and goes on training while the worker runs the episodes. Results come back in the
/// order they were submitted (one worker, first in first out) for the trainer to write: the worker never touches a run
/// file. It uses no training state: its own networks, its own Ants, no generator, so training computes the same bytes
/// with and without it.
/// </summary>
public sealed class EvalWorker : IDisposable
{
    private readonly PolicyEvaluation _evaluation;
    private readonly Thread _thread;
    private readonly object _gate = new();
    private readonly Queue<Job> _jobs = new();
    private readonly Queue<Outcome> _done = new();
    private bool _closing;
    private int _running;      // 1 while the worker runs a job taken from _jobs
    private double _busySeconds;

    private sealed record Job(float[] Weights, double Friction, long Step, int Update, double ElapsedSeconds);

    private readonly record struct Outcome(EvalResult? Result, Exception? Error, long Step);

    public EvalWorker(PolicyEvaluation evaluation)
    {
        _evaluation = evaluation;
        _thread = new Thread(Work) { IsBackground = true, Name = "eval" };
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
        var weights = new float[_evaluation.ParameterCount];
        using (var cpu = parameters.Data.cpu())
            MemoryMarshal.Cast<byte, float>(cpu.bytes).CopyTo(weights);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            _jobs.Enqueue(new Job(weights, friction, step, update, elapsedSeconds));
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The next finished evaluation in submission order, if it is finished; an evaluation that failed throws here.</summary>
    public bool TryTake(out EvalResult result)
    {
        Outcome outcome;
        lock (_gate)
        {
            if (!_done.TryDequeue(out outcome))
            {
                result = null!;
                return false;
            }
        }
        if (outcome.Error is InvalidDataException or PhysicsException)
            throw new TrainingException($"evaluation at step {outcome.Step:N0} failed: {outcome.Error.Message}", outcome.Error);
        if (outcome.Error is not null) ExceptionDispatchInfo.Throw(outcome.Error);   // a bug: an internal error with its trace
        result = outcome.Result!;
        return true;
    }

    /// <summary>Blocks until every submitted evaluation has finished; returns the seconds it waited.</summary>
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
                outcome = new Outcome(_evaluation.Run(job.Weights, job.Friction, job.Step, job.Update, job.ElapsedSeconds), null, job.Step);
            }
            catch (Exception e)
            {
                // Any exception leaving this thread would end the process; the trainer rethrows it where it takes the result.
                outcome = new Outcome(null, e, job.Step);
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

    /// <summary>Stops the worker after the evaluation it is running (queued ones are dropped) and releases its networks.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
        _evaluation.Dispose();
    }
}
