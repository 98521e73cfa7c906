using CbpGpu.Runner.Cli;

namespace CbpGpu.Runner;

public static class Program
{
    public static int Main(string[] args) => RunnerCommandLine.Invoke(args, Console.Out, Console.Error);
}
