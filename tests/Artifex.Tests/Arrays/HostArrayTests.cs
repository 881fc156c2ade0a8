using System.Buffers;
using System.Numerics.Tensors;

namespace Artifex.Tests;

public sealed class HostArrayTests
{
    [Fact]
    public void From_MatchingShape_ExposesShapeRankLengthAndType()
    {
        HostArray array = HostArray.From(new float[6], 2, 3);

        Assert.Equal([2L, 3L], array.Shape);
        Assert.Equal(2, array.Rank);
        Assert.Equal(6, array.Length);
        Assert.Equal(typeof(float), array.ElementType);
        Assert.IsType<HostArray<float>>(array);
    }

    [Fact]
    public void From_DataShared_WritesToSourceAreVisible()
    {
        int[] data = [1, 2, 3, 4];
        HostArray array = HostArray.From(data, 2, 2);

        data[3] = 40;
        array.As<int>().Span[0] = 10;

        Assert.Equal([10, 2, 3, 40], array.As<int>().Span.ToArray());
        Assert.Equal(10, data[0]);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(7)]
    public void From_LengthMismatch_ThrowsWithShapeAndCounts(int length)
    {
        var ex = Assert.Throws<ArgumentException>(() => HostArray.From(new float[length], 2, 3));

        Assert.Equal(
            ExceptionText.WithParameter($"A shape of (2, 3) needs 6 elements, but {length} were given.", "data"),
            ex.Message);
    }

    [Fact]
    public void From_NegativeDimension_ThrowsWithShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => HostArray.From(new float[3], -1, 3));

        Assert.Equal(
            ExceptionText.WithParameter("Array dimensions must be non-negative, but the shape is (-1, 3).", "shape"),
            ex.Message);
    }

    [Fact]
    public void From_ZeroSizedDimension_IsEmpty()
    {
        HostArray array = HostArray.From(Array.Empty<double>(), 0, 4);

        Assert.Equal(0, array.Length);
        Assert.Equal([0L, 4L], array.Shape);
    }

    [Fact]
    public void From_NullData_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => HostArray.From<float>(null!, 2));
    }

    [Fact]
    public void From_ShapeArrayMutatedAfterwards_ShapeUnchanged()
    {
        long[] shape = [2, 3];
        HostArray array = HostArray.From(new float[6], shape);

        shape[0] = 3;
        shape[1] = 2;

        Assert.Equal([2L, 3L], array.Shape);
    }

    [Fact]
    public void Scalar_IsRankZeroWithOneElement()
    {
        HostArray scalar = HostArray.Scalar(3.5f);

        Assert.Equal(0, scalar.Rank);
        Assert.Empty(scalar.Shape);
        Assert.Equal(1, scalar.Length);
        Assert.Equal(3.5f, scalar.As<float>().ScalarValue);
        Assert.Equal("HostArray<Single>()", scalar.ToString());
    }

    [Fact]
    public void From_OneElementAndNoShape_IsAScalar()
    {
        HostArray scalar = HostArray.From(new[] { 42L });

        Assert.Equal(0, scalar.Rank);
        Assert.Equal(42L, scalar.As<long>().ScalarValue);
    }

    [Fact]
    public void ScalarValue_NonScalar_ThrowsInvalidOperation()
    {
        HostArray array = HostArray.From(new[] { 1, 2 }, 2);

        var ex = Assert.Throws<InvalidOperationException>(() => array.As<int>().ScalarValue);

        Assert.Equal("The array has shape (2,), not ().", ex.Message);
    }

    [Fact]
    public void ScalarValue_OneElementVector_ThrowsInvalidOperation()
    {
        HostArray array = HostArray.From(new[] { 1 }, 1);

        Assert.Throws<InvalidOperationException>(() => array.As<int>().ScalarValue);
    }

    [Fact]
    public void As_MatchingType_ReturnsTheSameObject()
    {
        HostArray array = HostArray.From(new[] { 1, 2 }, 2);

        Assert.Same(array, array.As<int>());
    }

    [Fact]
    public void As_WrongType_ThrowsInvalidCastNamingBothTypes()
    {
        HostArray array = HostArray.From(new float[2], 2);

        var ex = Assert.Throws<InvalidCastException>(() => array.As<int>());

        Assert.Equal("This host array holds Single elements, not Int32.", ex.Message);
    }

    [Fact]
    public void AsTensor_SharesMemoryBothWays()
    {
        float[] data = [1, 2, 3, 4, 5, 6];
        HostArray<float> array = HostArray.From(data, 2, 3).As<float>();

        Tensor<float> tensor = array.AsTensor();
        tensor[1, 2] = 60f;
        data[0] = 10f;

        Assert.Equal([2, 3], tensor.Lengths.ToArray());
        Assert.Equal(60f, array.Span[5]);
        Assert.Equal(60f, data[5]);
        Assert.Equal(10f, tensor[0, 0]);
    }

    [Fact]
    public void AsTensor_Scalar_ThrowsInvalidOperation()
    {
        HostArray<int> scalar = HostArray.Scalar(1).As<int>();

        Assert.Throws<InvalidOperationException>(() => scalar.AsTensor());
    }

    [Fact]
    public void FromTensor_Copies_LaterChangesToTheTensorAreNotVisible()
    {
        int[] source = [1, 2, 3, 4, 5, 6];
        Tensor<int> tensor = Tensor.Create(source, [3, 2]);

        HostArray array = HostArray.From(tensor);
        source[0] = 100;
        tensor[2, 1] = 600;

        Assert.Equal([3L, 2L], array.Shape);
        Assert.Equal([1, 2, 3, 4, 5, 6], array.As<int>().Span.ToArray());
    }

    [Fact]
    public void FromTensor_SlicedView_CopiesLogicalRowMajorOrder()
    {
        Tensor<int> tensor = Tensor.Create(Enumerable.Range(0, 12).ToArray(), [3, 4]);
        Tensor<int> view = tensor.Slice([new NRange(1, 3), new NRange(1, 3)]);

        HostArray array = HostArray.From(view);

        Assert.Equal([2L, 2L], array.Shape);
        Assert.Equal([5, 6, 9, 10], array.As<int>().Span.ToArray());
    }

    [Fact]
    public void FromTensor_Null_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => HostArray.From<float>((Tensor<float>)null!));
    }

    [Fact]
    public void ToString_NamesTypeAndShape()
    {
        Assert.Equal("HostArray<Int32>(2, 3)", HostArray.From(new int[6], 2, 3).ToString());
        Assert.Equal("HostArray<Double>(4,)", HostArray.From(new double[4], 4).ToString());
    }

    [Fact]
    public void Constructor_Generic_SameChecksAsFrom()
    {
        var array = new HostArray<byte>(new byte[8], 2, 2, 2);

        Assert.Equal(3, array.Rank);
        Assert.Throws<ArgumentException>(() => new HostArray<byte>(new byte[8], 3, 3));
    }
}
