using Artifex.Distributed;

namespace Artifex.Conformance;

/// <summary>The DeviceMeshManager tests of the reference spec (B.1), run on a provider's real devices.</summary>
public abstract class DeviceMeshManagerConformanceTests : ProviderTestBase
{
    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void Constructor_ProviderDevices_SnapshotInOrder(int n) => WithProvider(n, provider =>
    {
        var manager = new DeviceMeshManager(provider);
        Assert.Equal(n, manager.NumDevices);
        Assert.Equal(provider.Devices, manager.Devices);
        Assert.Equal(provider.Devices, new DeviceMeshManager(provider.Devices).Devices);
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void CreateDataParallelMesh_Default_UsesEveryDevice(int n) => WithProvider(n, provider =>
    {
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();
        Assert.Equal([n], mesh.AxisSizes);
        Assert.Equal(["data"], mesh.AxisNames);
        Assert.Equal(provider.Devices, mesh.Devices);
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void CreateDeviceMesh_FewerThanAvailable_TakesTheFirstDevices(int n) => WithProvider(n, provider =>
    {
        var manager = new DeviceMeshManager(provider);
        Mesh mesh = manager.CreateDeviceMesh(("batch", 1));
        Assert.Equal(["batch"], mesh.AxisNames);
        Assert.Equal(provider.Devices[0], mesh.Devices[0]);
        Assert.Equal(1, mesh.Size);
    });

    [Theory]
    [InlineData(2, 1, 2)]
    [InlineData(4, 2, 2)]
    [InlineData(8, 2, 4)]
    [InlineData(8, 4, 2)]
    public void CreateHybridMesh_DevicesRowMajor(int n, int dp, int mp) => WithProvider(n, provider =>
    {
        Mesh mesh = new DeviceMeshManager(provider).CreateHybridMesh(dp, mp);
        Assert.Equal(["data", "model"], mesh.AxisNames);
        for (int i = 0; i < dp; i++)
        {
            for (int j = 0; j < mp; j++)
            {
                Assert.Equal(provider.Devices[(i * mp) + j], mesh[i, j]);
            }
        }

        MeshInfo info = new DeviceMeshManager(provider).GetMeshInfo(mesh);
        Assert.Equal(dp * mp, info.TotalDevices);
        Assert.Equal([new KeyValuePair<string, int>("data", dp), new KeyValuePair<string, int>("model", mp)], info.Axes);
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void CreateModelParallelMesh_TooMany_ThrowsNotEnoughDevices(int n) => WithProvider(n, provider =>
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new DeviceMeshManager(provider).CreateModelParallelMesh(n + 1));
        Assert.Equal($"Not enough devices: mesh requires {n + 1} devices but only {n} available. (Parameter 'meshShape')", error.Message);
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void CreateHybridMesh_TenByTen_ThrowsNotEnoughDevices(int n) => WithProvider(n, provider =>
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new DeviceMeshManager(provider).CreateHybridMesh(10, 10));
        Assert.StartsWith($"Not enough devices: mesh requires 100 devices but only {n} available.", error.Message, StringComparison.Ordinal);
    });
}
