using System.Runtime.CompilerServices;
using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Settings;
using CbpGpu.Agent.Training;
using CbpGpu.Kernels;
using CbpGpu.Tests.Agent;
using Xunit;
using static CbpGpu.Tests.Runner.RunnerInvocation;

namespace CbpGpu.Tests.Methods;

/// <summary>
/// A method of the test project with a bug: its hook throws after the second update, as a method's code can (the
/// Fig. 3 runs met such a crash inside TorchSharp, docs/results/fig3/README.md). Registered like any method
/// (docs/extending.md), so the failure comes from inside the trainer's loop, where a real one would.
/// </summary>
public static class FailingMethod
{
    public const string Message = "the failing method's bug after update 2";

#pragma warning disable CA2255 // the test process's registry holds it from the start, as src's built-in methods are registered
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => MethodRegistry.Register(new PlasticityMethod
    {
        Word = "failing", Id = new PpoMethod("Failing"), Order = 101,
        Summary = "a method of the test project whose hook throws after update 2",
        Nature2024Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-8, 0),
        Seed2023Adam = new AdamSettings(1e-4, 0.9, 0.999, 1e-5, 0),
        CheckpointBlock = ("failing", 1),
        Build = b => b.PlainOptimizer().With(new Hook()),
    });

    private sealed class Hook : IPlasticityHook
    {
        public void AfterStep(in StepView step) { }

        public void AfterUpdate(int update)
        {
            if (update == 2) throw new InvalidOperationException(Message);
        }

        public void Save(BinaryWriter writer) { }

        public void Load(BinaryReader reader)
        {
            if (reader.BaseStream.Length != 0) throw new InvalidDataException("the failing method has no state");
        }

        public void Dispose() { }
    }
}

/// <summary>A failure that is not the trainer's own (a bug, not bad input) still leaves its row in sessions.csv.</summary>
public sealed class FailingMethodTests : IDisposable
{
    private readonly string _root = TrainRuns.NewRoot("failing");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    [Fact]
    public void AnInternalErrorIsOneErrorLineAndTheLastRowOfSessionsCsv()
    {
        string dir = Path.Combine(_root, "run");
        var run = Invoke("train", "--method", "failing", "--preset", "constant", "--envs", "16", "--steps", "8192", "--threads", "2", "--out", dir);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"error: internal error: System.InvalidOperationException: {FailingMethod.Message}", run.ErrorLine);
        string[] sessions = File.ReadAllLines(Path.Combine(dir, RunDirectory.SessionsFile));
        Assert.Equal("time_utc,event,step,total_steps,detail", sessions[0]);
        Assert.Equal(3, sessions.Length);
        Assert.EndsWith(",created,0,8192,", sessions[1]);
        // Two updates of 16 envs x 128 steps were collected when the hook threw.
        Assert.EndsWith($",failed,4096,8192,internal error: System.InvalidOperationException: {FailingMethod.Message}", sessions[2]);
    }
}
