using Artifex.Cpu;
using TorchSharp;

namespace Artifex.TorchSharp.Tests;

/// <summary>Zero-copy views of tensors: collectives change the tensor in place; what cannot be viewed is refused; a disposed tensor is never touched.</summary>
public sealed class TensorViewTests
{
    [Fact]
    public void AllReduce_OnViewsOfTensors_ChangesTheTensorsInPlace()
    {
        using var provider = new CpuProvider(deviceCount: 2);
        using torch.Tensor first = torch.tensor(new float[] { 1, 2, 3 });
        using torch.Tensor second = torch.tensor(new float[] { 3, 4, 5 });
        torch.Tensor[] tensors = [first, second];
        provider.RunSpmd(new Mesh(provider.Devices, ("data", 2)), context =>
        {
            using DeviceArray<float> view = tensors[context.DeviceIndex].AsDeviceArray<float>(context.Device);
            Collectives.AllReduceInPlace(view, ReduceOp.Mean, "data");
        });

        Assert.Equal([2f, 3, 4], first.data<float>().ToArray());
        Assert.Equal([2f, 3, 4], second.data<float>().ToArray());
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void View_OfANarrowedTensor_StartsAtItsOffset_AndHasItsShape()
    {
        using var provider = new CpuProvider(deviceCount: 1);
        using torch.Tensor matrix = torch.arange(12, dtype: torch.ScalarType.Int64).reshape(4, 3);
        using torch.Tensor rows = matrix.narrow(0, 2, 2);
        using DeviceArray<long> view = rows.AsDeviceArray<long>(provider.Devices[0]);

        Assert.Equal([2L, 3L], view.Shape);
        Assert.Equal([6L, 7, 8, 9, 10, 11], view.ToArray());
        Assert.True(view.Buffer.IsExternal);
    }

    [Fact]
    public void View_WhatCannotBeViewed_IsRefusedNamingWhy()
    {
        using var provider = new CpuProvider(deviceCount: 1);
        Device device = provider.Devices[0];
        using torch.Tensor matrix = torch.zeros(2, 3);
        using torch.Tensor transposed = matrix.t();

        Assert.Contains("not contiguous (strides [1, 3])", Assert.Throws<ArgumentException>(() => transposed.AsDeviceArray<float>(device)).Message, StringComparison.Ordinal);
        Assert.Contains("Float32 (Single) elements, not Double", Assert.Throws<ArgumentException>(() => matrix.AsDeviceArray<double>(device)).Message, StringComparison.Ordinal);
        using torch.Tensor flags = torch.zeros(2, dtype: torch.ScalarType.Bool);
        Assert.Contains("Bool tensor has no Artifex element type", Assert.Throws<ArgumentException>(() => flags.AsDeviceArray(device)).Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void View_AfterTheTensorIsDisposed_EveryUseThrows_NothingIsTouched()
    {
        using var provider = new CpuProvider(deviceCount: 1);
        torch.Tensor tensor = torch.ones(4);
        using DeviceArray<float> view = tensor.AsDeviceArray<float>(provider.Devices[0]);
        tensor.Dispose();

        Assert.True(view.Buffer.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => view.ToArray());
        Assert.Throws<ObjectDisposedException>(() => tensor.AsDeviceArray<float>(provider.Devices[0]));
    }
}
