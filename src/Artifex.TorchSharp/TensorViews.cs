using TorchSharp;

namespace Artifex.TorchSharp;

/// <summary>
/// Zero-copy views of TorchSharp tensors as Artifex device arrays: a collective or kernel on the view reads and writes the
/// tensor's own memory.
/// </summary>
/// <remarks>
/// A view never owns or frees the tensor's memory; dispose it when done (that frees nothing). It stays valid while the
/// tensor object is not disposed — a live tensor keeps its storage alive — and every use after the tensor's disposal
/// throws <see cref="ObjectDisposedException"/>. An in-place operation that reallocates the storage (<c>resize_</c>,
/// <c>set_</c>) invalidates it without telling it: take views after such operations, not before.
/// </remarks>
public static class TensorViews
{
    /// <summary>Views a contiguous tensor as a device array of its shape on <paramref name="device"/>.</summary>
    /// <typeparam name="T">The element type matching the tensor's dtype (<see cref="float"/> for <c>float32</c>, <see cref="long"/> for <c>int64</c>, …).</typeparam>
    /// <param name="tensor">The tensor; contiguous, on the libtorch device <see cref="TorchDevices.ToTorch"/> gives for <paramref name="device"/>.</param>
    /// <param name="device">The Artifex device whose memory holds the tensor, of this process.</param>
    /// <returns>The view. The caller disposes it (which frees nothing).</returns>
    /// <exception cref="ObjectDisposedException">The tensor has been disposed.</exception>
    /// <exception cref="ArgumentException">The dtype is not <typeparamref name="T"/> or has no element type here, the tensor is not contiguous, or it is on another device.</exception>
    public static DeviceArray<T> AsDeviceArray<T>(this torch.Tensor tensor, Device device)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(device);
        ObjectDisposedException.ThrowIf(tensor.IsInvalid, typeof(torch.Tensor));
        Type elementType = TorchElementTypes.Of(tensor.dtype)
            ?? throw new ArgumentException($"A {tensor.dtype} tensor has no Artifex element type; views take float32, float64, float16, int8-64 and uint8 tensors.", nameof(tensor));
        if (elementType != typeof(T))
        {
            throw new ArgumentException($"The tensor holds {tensor.dtype} ({elementType.Name}) elements, not {typeof(T).Name}.", nameof(tensor));
        }

        long[] shape = tensor.shape;
        if (!tensor.is_contiguous())
        {
            throw new ArgumentException(
                $"The tensor of shape {TorchText.Dims(shape)} is not contiguous (strides {TorchText.Dims(tensor.stride())}), so its elements are not one row-major block; view tensor.contiguous() (a copy) instead.",
                nameof(tensor));
        }

        TorchDevices.RequireOn(tensor, device, nameof(tensor));
        nint address;
        using (torch.Storage<T> storage = tensor.storage<T>())
        {
            address = storage.data_ptr() + checked((nint)(tensor.storage_offset() * tensor.element_size()));
        }

        return DeviceArray.FromExternal<T>(device, address, () => !tensor.IsInvalid, shape);
    }

    /// <summary>Views a contiguous tensor of any supported dtype as a device array (the element type follows the dtype).</summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="device">The Artifex device whose memory holds the tensor.</param>
    /// <returns>The view, e.g. a <see cref="DeviceArray{T}"/> of <see cref="float"/> for a float32 tensor. The caller disposes it.</returns>
    /// <exception cref="ObjectDisposedException">The tensor has been disposed.</exception>
    /// <exception cref="ArgumentException">The dtype has no element type here, the tensor is not contiguous, or it is on another device.</exception>
    public static DeviceArray AsDeviceArray(this torch.Tensor tensor, Device device)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(tensor.IsInvalid, typeof(torch.Tensor));
        return tensor.dtype switch
        {
            torch.ScalarType.Float32 => tensor.AsDeviceArray<float>(device),
            torch.ScalarType.Float64 => tensor.AsDeviceArray<double>(device),
            torch.ScalarType.Float16 => tensor.AsDeviceArray<Half>(device),
            torch.ScalarType.Int32 => tensor.AsDeviceArray<int>(device),
            torch.ScalarType.Int64 => tensor.AsDeviceArray<long>(device),
            torch.ScalarType.Int16 => tensor.AsDeviceArray<short>(device),
            torch.ScalarType.Int8 => tensor.AsDeviceArray<sbyte>(device),
            torch.ScalarType.Byte => tensor.AsDeviceArray<byte>(device),
            _ => throw new ArgumentException($"A {tensor.dtype} tensor has no Artifex element type; views take float32, float64, float16, int8-64 and uint8 tensors.", nameof(tensor)),
        };
    }
}
