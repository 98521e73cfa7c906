using System.Runtime.ExceptionServices;

namespace CbpGpu.Physics;

/// <summary>
/// A fixed set of threads that run one body per call, partition w on thread w, with the caller as partition 0.
/// Unlike Parallel.For it allocates nothing per call and never waits for the shared thread pool. Waiting threads
/// spin briefly and then block, so they leave the cores to the learner between rollouts.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false);
    private Action<int>? _body;
    private int _remaining;
    private volatile bool _stopping;
    private ExceptionDispatchInfo? _failure;

    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _threads = new Thread[threads - 1];
        _start = new ManualResetEventSlim[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _start[i] = new ManualResetEventSlim(false);
            int w = i + 1;
            _threads[i] = new Thread(() => Loop(w)) { IsBackground = true, Name = $"CbpGpu.Physics worker {w}" };
            _threads[i].Start();
        }
    }

    public int Threads { get; }

    /// <summary>First item of partition <paramref name="w"/> when <paramref name="count"/> items are split evenly.</summary>
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
        _done.Reset();
        foreach (var s in _start) s.Set();
        try
        {
            body(0);
        }
        finally
        {
            _done.Wait();
            _body = null;
        }
        _failure?.Throw();
    }

    private void Loop(int w)
    {
        var start = _start[w - 1];
        while (true)
        {
            start.Wait();
            start.Reset(); // before signalling done, so the next Run's Set cannot be lost
            if (_stopping) return;
            try
            {
                _body!(w);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        foreach (var s in _start) s.Set();
        foreach (var t in _threads) t.Join();
        foreach (var s in _start) s.Dispose();
        _done.Dispose();
    }
}
