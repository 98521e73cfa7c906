using System.Globalization;
using CbpGpu.Agent.Networks;
using CbpGpu.Agent.Training;
using CbpGpu.Tests.Agent;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Methods;

/// <summary>What the tests of the built-in methods share: a small network, and a run trained straight and split by a resume.</summary>
internal static class MethodRuns
{
    /// <summary>Both networks for 5 observations, 8 hidden units and 2 actions, LeCun-initialised, with a gradient in [-1, 1).</summary>
    public static FlatParameters Network(ulong seed)
    {
        var parameters = new FlatParameters(new ParameterLayout(5, 8, 2), CPU);
        using var generator = new Generator(seed);
        parameters.Initialize(generator);
        RandomGradient(parameters, generator);
        return parameters;
    }

    /// <summary>A fresh gradient in [-1, 1) on every parameter (the padding stays 0).</summary>
    public static void RandomGradient(FlatParameters parameters, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var p in parameters.All) p.grad!.uniform_(-1, 1, generator);
    }

    /// <summary>
    /// Trains <paramref name="method"/> 4096 steps straight, and 2048 then resumed to 4096; asserts that both write the same
    /// episodes and updates and returns the straight run's updates.csv rows as column dictionaries.
    /// </summary>
    public static List<Dictionary<string, string>> TrainStraightAndSplit(string root, string method, params string[] more)
    {
        string straight = Path.Combine(root, "straight"), split = Path.Combine(root, "split");
        string[] Args(string dir, string steps) =>
            ["train", "--method", method, "--preset", "constant", "--envs", "16", "--steps", steps, "--threads", "2", "--out", dir, .. more];
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Args(straight, "4096")));
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Args(split, "2048")));
        Assert.Equal(0, CbpGpu.Runner.Program.Main(Args(split, "4096").Append("--resume").ToArray()));
        Assert.Equal(TrainRuns.Episodes(straight), TrainRuns.Episodes(split));
        Assert.Equal(TrainRuns.UpdatesWithoutTimings(straight), TrainRuns.UpdatesWithoutTimings(split));
        string[] rows = File.ReadAllLines(Path.Combine(straight, RunDirectory.UpdatesFile));
        string[] header = rows[0].Split(',');
        return [.. rows.Skip(1).Select(r => header.Zip(r.Split(',')).ToDictionary(p => p.First, p => p.Second))];
    }

    public static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}
