using CbpGpu.Agent;
using Xunit;
using static TorchSharp.torch;

namespace CbpGpu.Tests.Agent;

/// <summary>
/// The authors' Fig. 4b diagnostics (docs/ppo.md#acting-diagnostics): the stable rank on matrices with known singular
/// values and against a float64 SVD, the dormant share's 1% bound, and which acting steps land in which window.
/// </summary>
public sealed class ActingActivityTests
{
    private const int Units = 4;

    /// <summary>U diag(sigma) V^T with random orthonormal U [rows x k] and V [cols x k] (QR of float64 normals), row-major float32.</summary>
    private static float[] WithSingularValues(double[] sigma, int rows, int cols, long seed)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator((ulong)seed);
        int k = sigma.Length;
        var (u, _) = linalg.qr(randn([rows, k], ScalarType.Float64, generator: g));
        var (v, _) = linalg.qr(randn([cols, k], ScalarType.Float64, generator: g));
        var m = u.mul(tensor(sigma)).matmul(v.t());
        return m.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    [Fact]
    public void StableRankCountsUnsquaredSingularValuesUntilTheirShareReaches99Percent()
    {
        // 97 + 2 = 99 of a sum of 100: two values reach 0.99 exactly (their loop stops at cum >= 0.99).
        Assert.Equal(2, HiddenRepresentation.StableRank([2, 97, 0.5, 0.5]));
        // 97 + 1.9 = 98.9 < 99: the third is needed. Squared values would stop at one (97^2 is 99.96% of the squares).
        Assert.Equal(3, HiddenRepresentation.StableRank([1.9, 97, 0.6, 0.5]));
        // Equal values: 99% of n equal values takes ceil(0.99 n) of them.
        Assert.Equal(99, HiddenRepresentation.StableRank(Enumerable.Repeat(1.0, 100).ToArray()));
        Assert.Equal(198, HiddenRepresentation.StableRank(Enumerable.Repeat(3.0, 200).ToArray()));
        // One direction only; and an all-zero matrix, which their loop counts as 1 (NaN stops it after one step).
        Assert.Equal(1, HiddenRepresentation.StableRank([5, 0, 0]));
        Assert.Equal(1, HiddenRepresentation.StableRank([0, 0, 0]));
    }

    [Fact]
    public void SingularValuesOfAWindowSizedMatrixAreThoseItWasBuiltWith()
    {
        // 1000 x 256 of rank 40 with singular values 40, 39, ..., 1: float32 storage rounds them by ~1e-6 relative.
        double[] sigma = [.. Enumerable.Range(1, 40).Select(i => (double)(41 - i))];
        float[] m = WithSingularValues(sigma, ActingActivity.Window, 256, seed: 5);
        double[] found = HiddenRepresentation.SingularValues(m, ActingActivity.Window, 256);
        Assert.Equal(256, found.Length);
        for (int i = 0; i < sigma.Length; i++) Assert.Equal(sigma[i], found[i], 1e-4);
        for (int i = sigma.Length; i < found.Length; i++) Assert.InRange(found[i], 0, 1e-4);
        // sum = 820; the top k reach 99% (811.8) at k = 37: 40 + ... + 4 = 814, 40 + ... + 5 = 810.
        Assert.Equal(37, HiddenRepresentation.StableRank(found));
    }

    [Fact]
    public void SingularValuesMatchAFloat64SvdOfAReluWindow()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var h = nn.functional.relu(randn([ActingActivity.Window, 256], generator: g).matmul(randn([256, 256], generator: g) * 0.1) - 0.3);
        float[] m = h.contiguous().data<float>().ToArray();
        // The reference: a full float64 SVD, checked to be one (U diag(S) Vh gives back the matrix).
        var h64 = h.to_type(ScalarType.Float64);
        var (u, sigma, vh) = linalg.svd(h64, fullMatrices: false);
        Assert.True(u.mul(sigma).matmul(vh).allclose(h64, rtol: 0, atol: 1e-10));
        double[] reference = sigma.data<double>().ToArray();
        double[] found = HiddenRepresentation.SingularValues(m, ActingActivity.Window, 256);
        for (int i = 0; i < reference.Length; i++) Assert.Equal(reference[i], found[i], 1e-9 * reference[0]);
        Assert.Equal(HiddenRepresentation.StableRank(reference), HiddenRepresentation.StableRank(found));
        Assert.InRange(HiddenRepresentation.StableRank(found), 100, 256);
    }

    /// <summary>Feeds <paramref name="steps"/> acting steps one at a time; h1 of step s is filled with s + 1, h2 with <paramref name="h2"/>(s).</summary>
    private static List<ActivityRow> Feed(ActingActivity activity, long from, int steps, Func<long, int, float> h2)
    {
        var closed = new List<ActivityRow>();
        var a = new float[Units];
        var b = new float[Units];
        for (long s = from; s < from + steps; s++)
        {
            Array.Fill(a, (float)(s + 1));
            for (int u = 0; u < Units; u++) b[u] = h2(s, u);
            activity.Add(a, b, closed);
        }
        return closed;
    }

    [Fact]
    public void AUnitActiveOnTenStepsOfTheWindowIsDormantAndOnElevenIsNot()
    {
        // h2 units: 0 active on 10 steps of each window, 1 on 11, 2 never, 3 always; h1 always active. 2 of 8 dormant.
        var activity = new ActingActivity(Units, 0);
        var rows = Feed(activity, 0, 2 * ActingActivity.Window, (s, u) => u switch
        {
            0 => s % ActingActivity.Window < 10 ? 1 : 0,
            1 => s % ActingActivity.Window >= 989 ? 0.5f : -1,
            2 => 0,
            _ => 2,
        });
        Assert.Equal([1000L, 2000L], rows.Select(r => r.Step));
        Assert.All(rows, r => Assert.Equal(2.0 / 8, r.DormantShare));
        Assert.All(rows, r => Assert.True(double.IsNaN(r.StableRank) && double.IsNaN(r.StableRankPercent)));
    }

    [Fact]
    public void WindowsCloseAtMultiplesOf1000StepsWithTheStepsBeforeThemAndRanksEvery10000()
    {
        // Step s (0-based) is active in h2 unit s % 4 only: each unit then fires on 250 of a window's 1000 steps, none
        // dormant. Windows close at 1000, 2000, ...: the authors' row k, computed before acting step 1000 k, holds
        // steps 1000 (k - 1) .. 1000 k - 1, the same steps.
        var activity = new ActingActivity(Units, 0);
        var rows = Feed(activity, 0, 20_500, (s, u) => s % Units == u ? 1 : 0);
        Assert.Equal(Enumerable.Range(1, 20).Select(k => 1000L * k), rows.Select(r => r.Step));
        Assert.All(rows, r => Assert.Equal(0.0, r.DormantShare));
        // Ranks at 10,000 and 20,000: 1000 rows of 4 one-hot units, each 250 times: singular values sqrt(250) x 4.
        foreach (var r in rows)
            if (r.Step % ActingActivity.RankEvery == 0)
            {
                Assert.Equal(4.0, r.StableRank);
                Assert.Equal(100.0, r.StableRankPercent);
            }
            else Assert.True(double.IsNaN(r.StableRank));

        // Step 0 belongs to the first window and step 1000 to the second: h2 unit 0 fires on steps 990..1000 (10 of
        // them in window 1: dormant; 1 in window 2), unit 1 on steps 0..10 (11 in window 1: not dormant).
        var edge = new ActingActivity(Units, 0);
        var edgeRows = Feed(edge, 0, 3000, (s, u) => u switch
        {
            0 => s is >= 990 and <= 1000 ? 1 : 0,
            1 => s <= 10 ? 1 : 0,
            _ => 1,
        });
        Assert.Equal([1.0 / 8, 2.0 / 8, 2.0 / 8], edgeRows.Select(r => r.DormantShare));
    }

    [Fact]
    public void TheWindowRowIsTheStepWithinTheWindowSoTheRankSeesOnlyThatWindowsSteps()
    {
        // Window 1 (steps 0..999) is rank 1 (unit 0 only), windows 2..9 rank 2 (units 0 and 1, unequal), window 10
        // (steps 9000..9999) has all 4 units equally: its rank is 4, so no row of earlier windows is left in it.
        var activity = new ActingActivity(Units, 0);
        var rows = Feed(activity, 0, 10_000, (s, u) => s < 9000 ? (u == 0 ? 1 : u == 1 && s >= 1000 && s % 2 == 0 ? 3 : 0) : (s % Units == u ? 1 : 0));
        Assert.Equal(4.0, rows[^1].StableRank);
    }

    [Fact]
    public void ASavedWindowRestoresToTheSameRowsAndAMissingOneClosesWithoutARow()
    {
        static float H2(long s, int u) => (float)Math.Sin(0.37 * s + 1.3 * u) - 0.2f;
        var straight = Feed(new ActingActivity(Units, 0), 0, 21_000, H2);

        var first = new ActingActivity(Units, 0);
        var before = Feed(first, 0, 13_456, H2);
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) first.Save(w);
        var resumed = new ActingActivity(Units, 13_456);
        buffer.Position = 0;
        using (var r = new BinaryReader(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) resumed.Load(r);
        var after = Feed(resumed, 13_456, 21_000 - 13_456, H2);
        Assert.Equal(straight, before.Concat(after));

        // A resume without the window (a checkpoint written before it existed): the window begun at 13,000 has no row.
        var fresh = Feed(new ActingActivity(Units, 13_456), 13_456, 21_000 - 13_456, H2);
        Assert.Equal(straight.Where(x => x.Step > 14_000), fresh);

        // A window saved at another step is refused.
        buffer.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => new ActingActivity(Units, 14_000).Load(new BinaryReader(buffer)));
        Assert.Contains("13,456", e.Message);
    }
}
