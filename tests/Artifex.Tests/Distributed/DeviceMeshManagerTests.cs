using Artifex.Distributed;

namespace Artifex.Tests;

/// <summary>
/// The artifex test_distributed_mesh.py suite (spec B.1, tests 1-20) on descriptor devices, plus the port's own rules (A.1, E).
/// </summary>
public sealed class DeviceMeshManagerTests
{
    public static TheoryData<int> AllCounts => [1, 2, 4, 8];

    public static TheoryData<int> MultiDeviceCounts => [2, 4, 8];

    // B.1 test 1 (test_init_default), for the manager built from a device list; the default-provider case is below.
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void Constructor_WithDevices_HoldsEveryDevice(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Assert.Equal(n, manager.NumDevices);
    }

    [Fact]
    public void Constructor_NoDevicesAndNoDefaultProvider_ThrowsInvalidOperation()
    {
        Assert.SkipUnless(DeviceProvider.Default is null, "DeviceProvider.Default was set by another test in this process.");

        var ex = Assert.Throws<InvalidOperationException>(() => new DeviceMeshManager());

        Assert.Contains("DeviceProvider.Default is not set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullProvider_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => new DeviceMeshManager((DeviceProvider)null!));
    }

    [Fact]
    public void Constructor_NullDevice_ThrowsArgumentException()
    {
        Device[] devices = [TestDevices.Create(1)[0], null!];

        var ex = Assert.Throws<ArgumentException>(() => new DeviceMeshManager(devices));

        Assert.Equal(ExceptionText.WithParameter("A device is null.", "devices"), ex.Message);
    }

    // B.1 test 2 (test_init_with_devices).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void Devices_ConstructedWithDevices_EqualsThemInOrder(int n)
    {
        Device[] devices = TestDevices.Create(n);

        var manager = new DeviceMeshManager(devices);

        Assert.Equal(devices, manager.Devices);
    }

    [Fact]
    public void Devices_EachCallReturnsANewCopy()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(2));

        IReadOnlyList<Device> first = manager.Devices;
        IReadOnlyList<Device> second = manager.Devices;

        Assert.NotSame(first, second);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Constructor_SourceListMutatedAfterwards_ManagerUnchanged()
    {
        Device[] devices = TestDevices.Create(3);
        List<Device> source = [devices[0], devices[1]];
        var manager = new DeviceMeshManager(source);

        source.Add(devices[2]);
        source[0] = devices[2];

        Assert.Equal(2, manager.NumDevices);
        Assert.Equal([devices[0], devices[1]], manager.Devices);
    }

    [Fact]
    public void Constructor_EmptyList_StaysEmpty()
    {
        var manager = new DeviceMeshManager(Array.Empty<Device>());

        Assert.Equal(0, manager.NumDevices);
        Assert.Empty(manager.Devices);
    }

    // B.1 test 3 (test_create_mesh_with_dict_specification).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateDeviceMesh_DictSpecification_OneDeviceMesh(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateDeviceMesh(new Dictionary<string, int>(StringComparer.Ordinal) { ["data"] = 1 });

        Assert.Equal([1], mesh.AxisSizes);
        Assert.Equal(["data"], mesh.AxisNames);
        Assert.Equal(1, mesh.Size);
    }

    // B.1 test 4 (test_create_mesh_with_list_specification).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateDeviceMesh_ListSpecification_OneDeviceMesh(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateDeviceMesh(("batch", 1));

        Assert.Equal([1], mesh.AxisSizes);
        Assert.Equal(["batch"], mesh.AxisNames);
        Assert.Equal(1, mesh.Size);
    }

    // B.1 test 5 (test_create_mesh_with_explicit_devices).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateDeviceMesh_ExplicitDevices_UsesTheFirstOfThem(int n)
    {
        Device[] devices = TestDevices.Create(n);
        var manager = new DeviceMeshManager(devices);

        Mesh mesh = manager.CreateDeviceMesh([("data", 1)], devices);

        Assert.Equal([1], mesh.AxisSizes);
        Assert.Same(devices[0], mesh.Devices[0]);
    }

    // B.1 test 6 (test_create_mesh_multiple_axes).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateDeviceMesh_TwoAxes_OneByOneMesh(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateDeviceMesh(("data", 1), ("model", 1));

        Assert.Equal([1, 1], mesh.AxisSizes);
        Assert.Equal(["data", "model"], mesh.AxisNames);
        Assert.Equal(1, mesh.Size);
    }

    // B.1 test 7 (test_create_mesh_insufficient_devices_raises_error).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateDeviceMesh_HundredDevices_ThrowsNotEnoughDevices(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDeviceMesh(("data", 100)));

        Assert.Contains("Not enough devices", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateDeviceMesh_HundredDevicesOnFour_MessageIsVerbatim()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDeviceMesh(("data", 100)));

        Assert.Equal("meshShape", ex.ParamName);
        Assert.Equal(
            ExceptionText.WithParameter("Not enough devices: mesh requires 100 devices but only 4 available.", "meshShape"),
            ex.Message);
    }

    [Fact]
    public void CreateDeviceMesh_ProductBeyondIntRange_ReportsTheExactProduct()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDeviceMesh(("data", 65536), ("model", 65536)));

        Assert.StartsWith("Not enough devices: mesh requires 4294967296 devices but only 4 available.", ex.Message, StringComparison.Ordinal);
    }

    // B.1 test 8 (test_create_data_parallel_mesh_default).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateDataParallelMesh_Default_UsesAllDevices(int n)
    {
        Device[] devices = TestDevices.Create(n);
        var manager = new DeviceMeshManager(devices);

        Mesh mesh = manager.CreateDataParallelMesh();

        Assert.Equal([n], mesh.AxisSizes);
        Assert.Equal(["data"], mesh.AxisNames);
        Assert.Equal(devices, mesh.Devices);
    }

    // B.1 test 9 (test_create_data_parallel_mesh_single_device).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateDataParallelMesh_OneDevice_ShapeOne(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateDataParallelMesh(numDevices: 1);

        Assert.Equal([1], mesh.AxisSizes);
        Assert.Equal(["data"], mesh.AxisNames);
    }

    // B.1 test 10 (test_create_data_parallel_mesh_custom_axis_name).
    [Fact]
    public void CreateDataParallelMesh_CustomAxisName_UsesIt()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        Mesh mesh = manager.CreateDataParallelMesh(numDevices: 1, axisName: "batch");

        Assert.Equal(["batch"], mesh.AxisNames);
    }

    // B.1 test 11 (test_create_model_parallel_mesh_single_device).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateModelParallelMesh_OneDevice_ModelAxis(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateModelParallelMesh(numDevices: 1);

        Assert.Equal([1], mesh.AxisSizes);
        Assert.Equal(["model"], mesh.AxisNames);
    }

    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateModelParallelMesh_Default_UsesAllDevicesOnModelAxis(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateModelParallelMesh(axisName: "tensor");

        Assert.Equal([n], mesh.AxisSizes);
        Assert.Equal(["tensor"], mesh.AxisNames);
    }

    // B.1 test 12 (test_create_model_parallel_mesh_insufficient_devices_raises_error).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateModelParallelMesh_HundredDevices_ThrowsNotEnoughDevices(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateModelParallelMesh(numDevices: 100));

        Assert.StartsWith($"Not enough devices: mesh requires 100 devices but only {n} available.", ex.Message, StringComparison.Ordinal);
    }

    // B.1 test 13 (test_create_hybrid_mesh_single_device).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateHybridMesh_OneByOne_DataAndModelAxes(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateHybridMesh(1, 1);

        Assert.Equal([1, 1], mesh.AxisSizes);
        Assert.Equal(["data", "model"], mesh.AxisNames);
        Assert.Equal(1, mesh.Size);
    }

    [Fact]
    public void CreateHybridMesh_Defaults_OneByOne()
    {
        Mesh mesh = new DeviceMeshManager(TestDevices.Create(4)).CreateHybridMesh();

        Assert.Equal("Mesh('data': 1, 'model': 1)", mesh.ToString());
    }

    // B.1 test 14 (test_create_hybrid_mesh_insufficient_devices_raises_error).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateHybridMesh_TenByTen_ThrowsNotEnoughDevices(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateHybridMesh(10, 10));

        Assert.StartsWith($"Not enough devices: mesh requires 100 devices but only {n} available.", ex.Message, StringComparison.Ordinal);
    }

    // B.1 test 15 (test_get_mesh_info_single_axis).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void GetMeshInfo_OneDeviceDataMesh_TotalOneAndDataOne(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        MeshInfo info = manager.GetMeshInfo(manager.CreateDeviceMesh(("data", 1)));

        Assert.Equal(1, info.TotalDevices);
        Assert.True(info.Axes.ContainsKey("data"));
        Assert.Equal(1, info.Axes["data"]);
    }

    // B.1 test 16 (test_get_mesh_info_multiple_axes).
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void GetMeshInfo_OneByOneHybrid_TwoAxes(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        MeshInfo info = manager.GetMeshInfo(manager.CreateHybridMesh(1, 1));

        Assert.Equal(1, info.TotalDevices);
        Assert.Equal(2, info.Axes.Count);
        Assert.Equal([KeyValuePair.Create("data", 1), KeyValuePair.Create("model", 1)], info.Axes);
    }

    // B.1 test 17 (test_mesh_context_manager): `with mesh:` must not raise.
    [Theory]
    [MemberData(nameof(AllCounts))]
    public void CreateDataParallelMesh_UsedAsAmbientMesh_EntersAndLeaves(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));
        Mesh mesh = manager.CreateDataParallelMesh(numDevices: 1);
        Mesh? before = Mesh.Current;

        using (mesh.Activate())
        {
            Assert.Same(mesh, Mesh.Current);
        }

        Assert.Same(before, Mesh.Current);
    }

    // B.1 test 18 (test_create_mesh_with_two_devices).
    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void CreateDeviceMesh_TwoDevices_ShapeTwo(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateDeviceMesh(("data", 2));

        Assert.Equal([2], mesh.AxisSizes);
        Assert.Equal(["data"], mesh.AxisNames);
    }

    // B.1 test 19 (test_create_data_parallel_mesh_two_devices).
    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void CreateDataParallelMesh_TwoDevices_ShapeTwo(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        Mesh mesh = manager.CreateDataParallelMesh(numDevices: 2);

        Assert.Equal([2], mesh.AxisSizes);
    }

    // B.1 test 20 (test_mesh_info_two_devices).
    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void GetMeshInfo_TwoDeviceDataMesh_TotalTwo(int n)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(n));

        MeshInfo info = manager.GetMeshInfo(manager.CreateDeviceMesh(("data", 2)));

        Assert.Equal(2, info.TotalDevices);
        Assert.Equal(2, info.Axes["data"]);
    }

    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void CreateDataParallelMesh_FewerThanAvailable_TakesTheFirstDevices(int n)
    {
        Device[] devices = TestDevices.Create(n);
        var manager = new DeviceMeshManager(devices);

        Mesh mesh = manager.CreateDataParallelMesh(numDevices: n / 2);

        Assert.Equal(devices[..(n / 2)], mesh.Devices);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 2)]
    [InlineData(2, 4)]
    [InlineData(1, 8)]
    public void CreateHybridMesh_AnyShape_DevicesAreRowMajor(int dp, int mp)
    {
        Device[] devices = TestDevices.Create(8);
        var manager = new DeviceMeshManager(devices);

        Mesh mesh = manager.CreateHybridMesh(dp, mp);

        Assert.Equal([dp, mp], mesh.AxisSizes);
        for (int i = 0; i < dp; i++)
        {
            for (int j = 0; j < mp; j++)
            {
                Assert.Same(devices[(i * mp) + j], mesh[i, j]);
            }
        }
    }

    [Fact]
    public void CreateHybridMesh_CustomAxisNames_UsesThemInOrder()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        Mesh mesh = manager.CreateHybridMesh(2, 2, dataAxis: "replica", modelAxis: "shard");

        Assert.Equal(["replica", "shard"], mesh.AxisNames);
    }

    [Fact]
    public void CreateDeviceMesh_DictionaryForm_KeepsInsertionOrder()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));
        var shape = new OrderedDictionary<string, int>(StringComparer.Ordinal) { ["model"] = 2, ["data"] = 2 };

        Mesh mesh = manager.CreateDeviceMesh(shape);

        Assert.Equal(["model", "data"], mesh.AxisNames);
        Assert.Equal("Mesh('model': 2, 'data': 2)", mesh.ToString());
    }

    [Fact]
    public void CreateDeviceMesh_PairSequenceForm_KeepsOrder()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(8));
        KeyValuePair<string, int>[] shape = [KeyValuePair.Create("z", 2), KeyValuePair.Create("a", 4)];

        Mesh mesh = manager.CreateDeviceMesh(shape);

        Assert.Equal(["z", "a"], mesh.AxisNames);
        Assert.Equal([2, 4], mesh.AxisSizes);
    }

    [Fact]
    public void CreateDeviceMesh_ExplicitDevices_OverrideForThisCallOnly()
    {
        Device[] own = TestDevices.Create(4);
        Device[] other = [new Device(7, "cpu", "cpu"), new Device(6, "cpu", "cpu")];
        var manager = new DeviceMeshManager(own);

        Mesh overridden = manager.CreateDeviceMesh([("data", 2)], other);
        Mesh normal = manager.CreateDeviceMesh(("data", 2));

        Assert.Equal(other, overridden.Devices);
        Assert.Equal(own[..2], normal.Devices);
        Assert.Equal(own, manager.Devices);
    }

    [Fact]
    public void CreateDeviceMesh_ExplicitDevicesTooFew_CountsOnlyThem()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(8));
        Device[] other = [new Device(10, "cpu", "cpu"), new Device(11, "cpu", "cpu")];

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDeviceMesh([("data", 3)], other));

        Assert.StartsWith("Not enough devices: mesh requires 3 devices but only 2 available.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateDeviceMesh_DictionaryWithExplicitDevices_UsesThem()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(2));
        Device[] other = [new Device(9, "cpu", "cpu")];

        Mesh mesh = manager.CreateDeviceMesh(new Dictionary<string, int>(StringComparer.Ordinal) { ["data"] = 1 }, other);

        Assert.Same(other[0], mesh.Devices[0]);
    }

    [Fact]
    public void CreateDeviceMesh_NoAxes_ZeroDimensionalMeshOfTheFirstDevice()
    {
        Device[] devices = TestDevices.Create(4);
        var manager = new DeviceMeshManager(devices);

        Mesh mesh = manager.CreateDeviceMesh();

        Assert.Equal(0, mesh.Rank);
        Assert.Equal(1, mesh.Size);
        Assert.Same(devices[0], mesh.Devices[0]);
    }

    [Fact]
    public void CreateDeviceMesh_NoAxesAndNoDevices_ThrowsNotEnoughDevices()
    {
        var manager = new DeviceMeshManager(Array.Empty<Device>());

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDeviceMesh());

        Assert.StartsWith("Not enough devices: mesh requires 1 devices but only 0 available.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void CreateDeviceMesh_SizeBelowOne_ThrowsArgumentException(int size)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDeviceMesh(("data", 2), ("model", size)));

        Assert.Equal(
            ExceptionText.WithParameter($"Mesh axis 'model' has size {size}; every axis size must be at least 1.", "meshShape"),
            ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void CreateDataParallelMesh_SizeBelowOne_ThrowsArgumentException(int size)
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDataParallelMesh(size));

        Assert.Contains($"Mesh axis 'data' has size {size}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateHybridMesh_ZeroModelSize_ThrowsArgumentException()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateHybridMesh(2, 0));

        Assert.Contains("Mesh axis 'model' has size 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateDataParallelMesh_EmptyManager_ThrowsArgumentException()
    {
        var manager = new DeviceMeshManager(Array.Empty<Device>());

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDataParallelMesh());

        Assert.Contains("Mesh axis 'data' has size 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateHybridMesh_SameAxisNames_ThrowsArgumentException()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateHybridMesh(1, 1, "x", "x"));

        Assert.Equal(
            ExceptionText.WithParameter("Mesh axis names must be unique, but 'x' appears more than once.", "meshShape"),
            ex.Message);
    }

    [Fact]
    public void CreateDeviceMesh_DuplicateNamesInListForm_ThrowsArgumentException()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDeviceMesh(("data", 2), ("data", 2)));

        Assert.Contains("'data' appears more than once", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateDataParallelMesh_EmptyAxisName_ThrowsArgumentException()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDataParallelMesh(1, string.Empty));

        Assert.Equal(
            ExceptionText.WithParameter("Mesh axis 0 has an empty name; every axis needs a unique, non-empty name.", "meshShape"),
            ex.Message);
    }

    [Fact]
    public void CreateDeviceMesh_AxisRejectedBeforeDeviceCount_ReportsTheAxisProblem()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(1));

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDeviceMesh(("data", 100), ("model", 0)));

        Assert.Contains("has size 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateDataParallelMesh_DuplicateDevicesInManager_ThrowsFromMesh()
    {
        Device device = TestDevices.Create(1)[0];
        var manager = new DeviceMeshManager([device, device]);

        var ex = Assert.Throws<ArgumentException>(() => manager.CreateDataParallelMesh());

        Assert.Contains("Mesh devices must be distinct", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetMeshInfo_TwoByTwoHybrid_TotalAndAxesInMeshOrder()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(4));

        MeshInfo info = manager.GetMeshInfo(manager.CreateHybridMesh(2, 2));

        Assert.Equal(4, info.TotalDevices);
        Assert.Equal([KeyValuePair.Create("data", 2), KeyValuePair.Create("model", 2)], info.Axes);
    }

    [Fact]
    public void GetMeshInfo_AxesNotSorted_KeepsMeshOrder()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(8));

        MeshInfo info = manager.GetMeshInfo(manager.CreateDeviceMesh(("model", 4), ("data", 2)));

        Assert.Equal(8, info.TotalDevices);
        Assert.Equal(["model", "data"], info.Axes.Keys, StringComparer.Ordinal);
        Assert.Equal([4, 2], info.Axes.Values);
    }

    [Fact]
    public void GetMeshInfo_NullMesh_ThrowsArgumentNullException()
    {
        var manager = new DeviceMeshManager(TestDevices.Create(1));

        Assert.Throws<ArgumentNullException>(() => manager.GetMeshInfo(null!));
    }
}
