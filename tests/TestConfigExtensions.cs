using CbpGpu.Agent.Settings;
using CbpGpu.Kernels;

namespace CbpGpu.Tests;

/// <summary>Short forms the tests use for the method settings a config holds.</summary>
public static class TestConfigExtensions
{
    /// <summary>The run's CBP settings, or null when its method is not CBP's.</summary>
    public static CbpSettings? Cbp(this TrainConfig config) => config.SettingsOf<CbpSettings>();
}
