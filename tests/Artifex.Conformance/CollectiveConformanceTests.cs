namespace Artifex.Conformance;

/// <summary>SPMD regions and collectives: values on every device, errors, faults and timeouts.</summary>
public abstract class CollectiveConformanceTests : ProviderTestBase
{
    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void Pmean_PerDeviceValues_EveryDeviceGetsMeanAndSum(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var sums = new float[n][];
        var means = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([rank + 1f, -(rank + 1f), 0.5f], 3));
            using DeviceArray<float> sum = Collectives.Psum(x, "data");
            using DeviceArray<float> mean = Collectives.Pmean(x, "data");
            sums[rank] = sum.ToArray();
            means[rank] = mean.ToArray();
        });
        float total = n * (n + 1) / 2f;
        Assert.All(sums, s => Assert.Equal([total, -total, 0.5f * n], s));
        Assert.All(means, m => Assert.Equal([total / n, -total / n, 0.5f], m));
    });
}
