namespace Artifex.Tests;

public sealed class MeshTests
{
    [Fact]
    public void Constructor_TwoAxes_ExposesNamesSizesShapeAndSize()
    {
        Device[] devices = TestDevices.Create(6);

        var mesh = new Mesh(devices, ("data", 2), ("model", 3));

        Assert.Equal(["data", "model"], mesh.AxisNames);
        Assert.Equal([2, 3], mesh.AxisSizes);
        Assert.Equal(6, mesh.Size);
        Assert.Equal(2, mesh.Rank);
        Assert.Equal(devices, mesh.Devices);
    }

    [Fact]
    public void Constructor_AxisSizesWhoseProductWrapsToZero_ThrowsInsteadOfAnEmptyMesh()
    {
        // 65536^4 = 2^64: a wrapping product would match zero devices.
        ArgumentException error = Assert.Throws<ArgumentException>(() => new Mesh([], ("a", 65536), ("b", 65536), ("c", 65536), ("d", 65536)));

        Assert.Equal("devices", error.ParamName);
        Assert.StartsWith("A mesh of shape (65536, 65536, 65536, 65536) needs more than 2147483647 devices, but 0 were given.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Shape_AxesNotInSortedOrder_KeepsAxisOrder()
    {
        var mesh = new Mesh(TestDevices.Create(6), ("model", 3), ("data", 2));

        Assert.Equal(["model", "data"], mesh.Shape.Keys, StringComparer.Ordinal);
        Assert.Equal([3, 2], mesh.Shape.Values);
        Assert.Equal(3, mesh.Shape["model"]);
        Assert.Equal(2, mesh.Shape["data"]);
    }

    [Fact]
    public void Shape_CastToDictionary_CannotBeModified()
    {
        var mesh = new Mesh(TestDevices.Create(2), ("data", 2));

        var writable = Assert.IsAssignableFrom<IDictionary<string, int>>(mesh.Shape);

        Assert.Throws<NotSupportedException>(() => writable["data"] = 5);
        Assert.Equal(2, mesh.Shape["data"]);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 4)]
    [InlineData(2, 2)]
    [InlineData(2, 3)]
    [InlineData(4, 2)]
    public void GetDevice_TwoAxisMesh_IsRowMajor(int rows, int columns)
    {
        Device[] devices = TestDevices.Create(rows * columns);
        var mesh = new Mesh(devices, ("data", rows), ("model", columns));

        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                Assert.Same(devices[(i * columns) + j], mesh.GetDevice([i, j]));
                Assert.Same(devices[(i * columns) + j], mesh[i, j]);
            }
        }
    }

    [Fact]
    public void GetDevice_ThreeAxisMesh_LastAxisVariesFastest()
    {
        Device[] devices = TestDevices.Create(12);
        var mesh = new Mesh(devices, ("a", 2), ("b", 3), ("c", 2));

        Assert.Same(devices[0], mesh[0, 0, 0]);
        Assert.Same(devices[1], mesh[0, 0, 1]);
        Assert.Same(devices[2], mesh[0, 1, 0]);
        Assert.Same(devices[6], mesh[1, 0, 0]);
        Assert.Same(devices[11], mesh[1, 2, 1]);
    }

    [Theory]
    [InlineData(new[] { 8 })]
    [InlineData(new[] { 2, 4 })]
    [InlineData(new[] { 4, 2 })]
    [InlineData(new[] { 2, 3, 2 })]
    [InlineData(new[] { 1, 2, 1, 2 })]
    public void GetCoordinate_EveryDevice_RoundTripsThroughGetDevice(int[] sizes)
    {
        MeshAxis[] axes = [.. sizes.Select(static (s, i) => new MeshAxis($"axis{i}", s))];
        int count = sizes.Aggregate(1, static (a, b) => a * b);
        Device[] devices = TestDevices.Create(count);
        var mesh = new Mesh(devices, axes);

        for (int k = 0; k < count; k++)
        {
            int[] coordinate = mesh.GetCoordinate(k);

            Assert.Equal(sizes.Length, coordinate.Length);
            Assert.All(coordinate.Select(static (c, axis) => (c, axis)), p => Assert.InRange(p.c, 0, sizes[p.axis] - 1));
            Assert.Same(devices[k], mesh.GetDevice(coordinate));
            Assert.Equal(k, mesh.IndexOf(devices[k]));
        }
    }

    [Fact]
    public void GetCoordinate_TwoByThree_MatchesRowMajorOrder()
    {
        var mesh = new Mesh(TestDevices.Create(6), ("data", 2), ("model", 3));

        Assert.Equal([0, 0], mesh.GetCoordinate(0));
        Assert.Equal([0, 2], mesh.GetCoordinate(2));
        Assert.Equal([1, 0], mesh.GetCoordinate(3));
        Assert.Equal([1, 2], mesh.GetCoordinate(5));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4)]
    public void GetCoordinate_OutOfRange_ThrowsArgumentOutOfRange(int deviceIndex)
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));

        Assert.Throws<ArgumentOutOfRangeException>(() => mesh.GetCoordinate(deviceIndex));
    }

    [Fact]
    public void GetDevice_WrongCoordinateLength_ThrowsArgumentException()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));

        var ex = Assert.Throws<ArgumentException>(() => mesh.GetDevice([1]));

        Assert.Equal(ExceptionText.WithParameter("A coordinate of this mesh has 2 indices, not 1.", "coordinate"), ex.Message);
    }

    [Theory]
    [InlineData(2, 0, "Index 2 is out of range for mesh axis 'data' of size 2.")]
    [InlineData(0, 3, "Index 3 is out of range for mesh axis 'model' of size 3.")]
    [InlineData(-1, 0, "Index -1 is out of range for mesh axis 'data' of size 2.")]
    public void GetDevice_IndexOutOfRange_ThrowsNamingTheAxis(int i, int j, string expected)
    {
        var mesh = new Mesh(TestDevices.Create(6), ("data", 2), ("model", 3));

        var ex = Assert.Throws<ArgumentException>(() => mesh[i, j]);

        Assert.Equal(ExceptionText.WithParameter(expected, "coordinate"), ex.Message);
    }

    [Fact]
    public void IndexOfAxis_KnownAndUnknownNames_ReturnsPositionOrMinusOne()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));

        Assert.Equal(0, mesh.IndexOfAxis("data"));
        Assert.Equal(1, mesh.IndexOfAxis("model"));
        Assert.Equal(-1, mesh.IndexOfAxis("Data"));
        Assert.Equal(-1, mesh.IndexOfAxis("batch"));
    }

    [Fact]
    public void IndexOf_DeviceNotInMesh_ReturnsMinusOne()
    {
        Device[] devices = TestDevices.Create(3);
        var mesh = new Mesh(devices[..2], ("data", 2));

        Assert.Equal(1, mesh.IndexOf(devices[1]));
        Assert.Equal(-1, mesh.IndexOf(devices[2]));
    }

    [Fact]
    public void Constructor_SourceListMutatedAfterwards_MeshUnchanged()
    {
        Device[] devices = TestDevices.Create(3);
        List<Device> source = [devices[0], devices[1]];
        var mesh = new Mesh(source, ("data", 2));

        source[0] = devices[2];

        Assert.Same(devices[0], mesh.Devices[0]);
    }

    [Fact]
    public void Constructor_NoAxesAndOneDevice_IsZeroDimensional()
    {
        Device device = TestDevices.Create(1)[0];

        var mesh = new Mesh([device]);

        Assert.Equal(0, mesh.Rank);
        Assert.Equal(1, mesh.Size);
        Assert.Empty(mesh.AxisNames);
        Assert.Empty(mesh.Shape);
        Assert.Same(device, mesh.GetDevice([]));
        Assert.Empty(mesh.GetCoordinate(0));
        Assert.Equal("Mesh()", mesh.ToString());
    }

    [Fact]
    public void Constructor_NoAxesAndNoDevices_ThrowsCountMismatch()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Mesh([]));

        Assert.Equal(ExceptionText.WithParameter("A mesh of shape () needs 1 devices, but 0 were given.", "devices"), ex.Message);
    }

    [Fact]
    public void Constructor_EmptyAxisName_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Mesh(TestDevices.Create(2), ("data", 1), (string.Empty, 2)));

        Assert.Equal("axes", ex.ParamName);
        Assert.Equal(
            ExceptionText.WithParameter("Mesh axis 1 has an empty name; every axis needs a unique, non-empty name.", "axes"),
            ex.Message);
    }

    [Fact]
    public void Constructor_NullAxisName_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Mesh(TestDevices.Create(2), new MeshAxis(null!, 2)));

        Assert.Contains("Mesh axis 0 has an empty name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_DuplicateAxisName_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Mesh(TestDevices.Create(4), ("data", 2), ("data", 2)));

        Assert.Equal(
            ExceptionText.WithParameter("Mesh axis names must be unique, but 'data' appears more than once.", "axes"),
            ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-4)]
    public void Constructor_AxisSizeBelowOne_ThrowsArgumentException(int size)
    {
        var ex = Assert.Throws<ArgumentException>(() => new Mesh([], ("data", size)));

        Assert.Equal(
            ExceptionText.WithParameter($"Mesh axis 'data' has size {size}; every axis size must be at least 1.", "axes"),
            ex.Message);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void Constructor_DeviceCountMismatch_ThrowsArgumentException(int deviceCount)
    {
        var ex = Assert.Throws<ArgumentException>(() => new Mesh(TestDevices.Create(deviceCount), ("data", 2), ("model", 2)));

        Assert.Equal(
            ExceptionText.WithParameter($"A mesh of shape (2, 2) needs 4 devices, but {deviceCount} were given.", "devices"),
            ex.Message);
    }

    [Fact]
    public void Constructor_DuplicateDevice_ThrowsArgumentException()
    {
        Device[] devices = TestDevices.Create(3);

        var ex = Assert.Throws<ArgumentException>(() => new Mesh([devices[0], devices[1], devices[2], devices[1]], ("data", 4)));

        Assert.Equal(
            ExceptionText.WithParameter("Mesh devices must be distinct, but cpu:1 appears more than once.", "devices"),
            ex.Message);
    }

    [Fact]
    public void Constructor_EqualButDistinctDeviceInstances_ThrowsDuplicate()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Mesh([new Device(0, "cpu", "cpu"), new Device(0, "cpu", "cpu")], ("data", 2)));

        Assert.Contains("cpu:0 appears more than once", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullDevice_ThrowsArgumentNullException()
    {
        Device[] devices = [TestDevices.Create(1)[0], null!];

        Assert.Throws<ArgumentNullException>(() => new Mesh(devices, ("data", 2)));
    }

    [Fact]
    public void Equals_SameNamesSizesAndDevices_AreEqualWithSameHash()
    {
        Device[] devices = TestDevices.Create(4);
        var a = new Mesh(devices, ("data", 2), ("model", 2));
        var b = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));

        Assert.NotSame(a, b);
        Assert.True(a.Equals(b));
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.Equal(a, (object)b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Equals_DifferentDeviceOrder_NotEqual()
    {
        Device[] devices = TestDevices.Create(2);
        var a = new Mesh(devices, ("data", 2));
        var b = new Mesh([devices[1], devices[0]], ("data", 2));

        Assert.NotEqual(a, b);
        Assert.True(a != b);
    }

    [Fact]
    public void Equals_DifferentAxisNames_NotEqual()
    {
        Device[] devices = TestDevices.Create(2);

        Assert.NotEqual(new Mesh(devices, ("data", 2)), new Mesh(devices, ("model", 2)));
    }

    [Fact]
    public void Equals_SameNamesAndDevicesButDifferentSizes_NotEqual()
    {
        Device[] devices = TestDevices.Create(4);
        var a = new Mesh(devices, ("data", 1), ("model", 4));
        var b = new Mesh(devices, ("data", 4), ("model", 1));

        Assert.False(a.Equals(b));
        Assert.False(a == b);
    }

    [Fact]
    public void Equals_Null_IsFalse()
    {
        var mesh = new Mesh(TestDevices.Create(1), ("data", 1));
        Mesh? none = null;

        Assert.False(mesh.Equals(none));
        Assert.False(mesh == none);
        Assert.True(none == null);
        Assert.False(mesh.Equals((object?)"Mesh('data': 1)"));
    }

    [Fact]
    public void GetHashCode_EqualMeshes_UsableAsDictionaryKey()
    {
        var lookup = new Dictionary<Mesh, string> { [new Mesh(TestDevices.Create(2), ("data", 2))] = "found" };

        Assert.Equal("found", lookup[new Mesh(TestDevices.Create(2), ("data", 2))]);
        Assert.False(lookup.ContainsKey(new Mesh(TestDevices.Create(2), ("model", 2))));
    }

    [Fact]
    public void ToString_TwoAxes_PrintsLikeJax()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));

        Assert.Equal("Mesh('data': 2, 'model': 2)", mesh.ToString());
    }

    [Fact]
    public void ToString_OneAxis_PrintsLikeJax()
    {
        Assert.Equal("Mesh('batch': 3)", new Mesh(TestDevices.Create(3), ("batch", 3)).ToString());
    }

    [Fact]
    public void Activate_InsideScope_IsCurrent()
    {
        var mesh = new Mesh(TestDevices.Create(1), ("data", 1));
        Mesh? before = Mesh.Current;

        using (mesh.Activate())
        {
            Assert.Same(mesh, Mesh.Current);
        }

        Assert.Same(before, Mesh.Current);
    }

    [Fact]
    public void Activate_Nested_DisposeRestoresThePreviousMesh()
    {
        var outer = new Mesh(TestDevices.Create(1), ("outer", 1));
        var inner = new Mesh(TestDevices.Create(1), ("inner", 1));
        Mesh? before = Mesh.Current;

        IDisposable outerScope = outer.Activate();
        IDisposable innerScope = inner.Activate();
        Assert.Same(inner, Mesh.Current);

        innerScope.Dispose();
        Assert.Same(outer, Mesh.Current);

        outerScope.Dispose();
        Assert.Same(before, Mesh.Current);
    }

    [Fact]
    public void Activate_ScopeDisposedTwice_SecondDisposeDoesNothing()
    {
        var outer = new Mesh(TestDevices.Create(1), ("outer", 1));
        var inner = new Mesh(TestDevices.Create(1), ("inner", 1));
        Mesh? before = Mesh.Current;

        using (outer.Activate())
        {
            IDisposable innerScope = inner.Activate();
            innerScope.Dispose();
            using (inner.Activate())
            {
                innerScope.Dispose();
                Assert.Same(inner, Mesh.Current);
            }

            Assert.Same(outer, Mesh.Current);
        }

        Assert.Same(before, Mesh.Current);
    }

    [Fact]
    public async Task Activate_FlowsIntoTasksStartedInsideTheScope()
    {
        var mesh = new Mesh(TestDevices.Create(1), ("data", 1));

        using (mesh.Activate())
        {
            Mesh? seen = await Task.Run(static () => Mesh.Current);

            Assert.Same(mesh, seen);
        }
    }

    [Fact]
    public void GetAxisGroups_GroupsBySharedOtherCoordinates_RanksRowMajorOverTheNamedAxes()
    {
        var mesh = new Mesh(TestDevices.Create(6), ("data", 2), ("model", 3));
        Assert.Equal([[0, 3], [1, 4], [2, 5]], mesh.GetAxisGroups("data"));
        Assert.Equal([[0, 1, 2], [3, 4, 5]], mesh.GetAxisGroups("model"));
        Assert.Equal([[0, 1, 2, 3, 4, 5]], mesh.GetAxisGroups("data", "model"));
        Assert.Equal([[0, 3, 1, 4, 2, 5]], mesh.GetAxisGroups("model", "data"));
        Assert.Throws<ArgumentException>(() => mesh.GetAxisGroups("batch"));
        Assert.Throws<ArgumentException>(() => mesh.GetAxisGroups("data", "data"));
    }
}
