using System.Runtime.ExceptionServices;

namespace CbpGpu.Physics;

/// <summary>
/// A fixed set of threads that run one body per call, body(w) on thread w, with the caller as w = 0.
/// Unlike Parallel.For it allocates nothing per call and never waits for the shared thread pool. Waiting threads
/// spin briefly and then block on a monitor, so they leave the cores to the learner between rollouts.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    // About 10-50 microseconds of spinning before blocking: a step of one env takes ~250 us, so the wake-up
    // latency of a blocked thread is already small, and long spins would steal the core from other work.
    private const int SpinIterations = 64;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private Action<int>? _body;
    private long _generation;
    private int _remaining;
    private volatile bool _stopping;
    private ExceptionDispatchInfo? _failure;

    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int w = i + 1;
            _threads[i] = new Thread(() => Loop(w)) { IsBackground = true, Name = $"CbpGpu.Physics worker {w}" };
            _threads[i].Start();
        }
    }

    public int Threads { get; }

    /// <summary>First item of partition <paramref name="w"/> when <paramref name="count"/> items are split evenly over the threads.</summary>
    public int PartitionStart(int w, int count) => (int)((long)w * count / Threads);

    /// <summary>Runs body(0..Threads-1) in parallel and returns when all are done; rethrows the first failure.</summary>
    public void Run(Action<int> body)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (_threads.Length == 0)
        {
            body(0);
            return;
        }
        _body = body;
        _failure = null;
        Volatile.Write(ref _remaining, _threads.Length);
        lock (_gate)
        {
            _generation++;
            Monitor.PulseAll(_gate);
        }
        try
        {
            body(0);
        }
        finally
        {
            for (int i = 0; i < SpinIterations && Volatile.Read(ref _remaining) != 0; i++) Thread.SpinWait(30);
            if (Volatile.Read(ref _remaining) != 0)
                lock (_gate)
                    while (_remaining != 0) Monitor.Wait(_gate);
            _body = null;
        }
        _failure?.Throw();
    }

    private void Loop(int w)
    {
        long seen = 0;
        while (true)
        {
            for (int i = 0; i < SpinIterations && Volatile.Read(ref _generation) == seen && !_stopping; i++) Thread.SpinWait(30);
            if (Volatile.Read(ref _generation) == seen && !_stopping)
                lock (_gate)
                    while (_generation == seen && !_stopping) Monitor.Wait(_gate);
            if (_stopping) return;
            seen = Volatile.Read(ref _generation);
            try
            {
                _body!(w);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            if (Interlocked.Decrement(ref _remaining) == 0)
                lock (_gate) Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _threads) t.Join();
    }
}
