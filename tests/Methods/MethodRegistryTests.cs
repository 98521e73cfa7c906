using CbpGpu.Agent.Methods;
using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;
using Xunit;

namespace CbpGpu.Tests.Methods;

/// <summary>The registry (docs/extending.md): the built-in methods' rows of docs/ppo.md#methods, refusals, config.json's method blocks.</summary>
public sealed class MethodRegistryTests
{
    /// <summary>docs/ppo.md#methods' table, as written there (lr 1e-4; eps 1e-8 / 1e-5 by learner).</summary>
    [Theory]
    [InlineData("std", "Standard", 0.9, 0.999, 0.0, 0.9, 0.999, 0.0)]
    [InlineData("ns", "NsAdam", 0.99, 0.99, 0.0, 0.99, 0.99, 0.0)]
    [InlineData("l2", "L2", 0.99, 0.99, 1e-3, 0.9, 0.999, 1e-3)]
    [InlineData("cbp", "Cbp", 0.99, 0.99, 1e-4, 0.9, 0.999, 0.0)]
    [InlineData("cbpi", "CbpInstantaneous", 0.99, 0.99, 1e-4, 0.9, 0.999, 0.0)]
    [InlineData("redo", "Redo", 0.99, 0.99, 1e-4, 0.9, 0.999, 0.0)]
    public void TheBuiltInMethodsAreThePapersTable(string word, string id, double b1, double b2, double wd, double seedB1, double seedB2, double seedWd)
    {
        var method = MethodRegistry.FindWord(word)!;
        Assert.Equal(new PpoMethod(id), method.Id);
        Assert.Equal(new AdamSettings(1e-4, b1, b2, 1e-8, wd), method.Nature2024Adam);
        Assert.Equal(new AdamSettings(1e-4, seedB1, seedB2, 1e-5, seedWd), method.Seed2023Adam);
        Assert.Equal(word == "cbp", method.IsDefault);
    }

    [Fact]
    public void BuiltInsComeInThePapersOrderBeforeAnyOther() =>
        Assert.Equal(["std", "ns", "l2", "cbp"], MethodRegistry.All.Select(m => m.Word).Take(4));

    [Fact]
    public void ATakenNameOrBlockIsRefused()
    {
        var std = MethodRegistry.FindWord("std")!;
        Assert.Contains("already registered", Assert.Throws<ArgumentException>(() => MethodRegistry.Register(new PlasticityMethod
        {
            Word = "STD", Id = new PpoMethod("Other"), Order = 50, Summary = "", Nature2024Adam = std.Nature2024Adam, Seed2023Adam = std.Seed2023Adam,
        })).Message);
        Assert.Contains("checkpoint block cbp is cbp's", Assert.Throws<ArgumentException>(() => MethodRegistry.Register(new PlasticityMethod
        {
            Word = "other", Id = new PpoMethod("Other"), Order = 50, Summary = "", Nature2024Adam = std.Nature2024Adam, Seed2023Adam = std.Seed2023Adam,
            CheckpointBlock = ("cbp", 1),
        })).Message);
        Assert.DoesNotContain(MethodRegistry.All, m => m.Word == "other");
    }

    /// <summary>Runs of other methods keep the "Cbp": null that builds before the registry wrote; a block of another method is refused.</summary>
    [Fact]
    public void ConfigJsonHoldsTheMethodsBlockAndNoOther()
    {
        var std = new TrainConfig(EnvSettings.Constant(4, 1.0), PpoSettings.For(PpoMethod.Standard), new RunSettings(0, 4096, "cpu", 1, 1, 100));
        string json = std.ToJson();
        Assert.Contains("  },\n  \"Cbp\": null,\n  \"Eval\": {", json.ReplaceLineEndings("\n"));
        Assert.Equal(std, TrainConfig.FromJson(json));
        var cbp = std with { Ppo = PpoSettings.For(PpoMethod.Cbp), MethodSettings = CbpSettings.Seed2023 };
        Assert.Equal(cbp, TrainConfig.FromJson(cbp.ToJson()));
        string mixed = cbp.ToJson().Replace("\"Method\": \"Cbp\"", "\"Method\": \"Standard\"", StringComparison.Ordinal);
        Assert.Contains("Cbp holds settings of another method than Standard",
            Assert.Throws<System.Text.Json.JsonException>(() => TrainConfig.FromJson(mixed)).Message);
        Assert.Equal("method Cbp needs CBP settings", (cbp with { MethodSettings = null }).Validate());
    }
}
