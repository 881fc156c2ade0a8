using Artifex.Cuda;
using TorchSharp;

namespace Artifex.TorchSharp;

/// <summary>Which libtorch device holds the memory of an Artifex device, and the check that a tensor is on it.</summary>
public static class TorchDevices
{
    /// <summary>Gets the libtorch device whose memory an Artifex device addresses.</summary>
    /// <param name="device">A device of a CPU, MPI or CUDA provider.</param>
    /// <returns><c>cpu</c> for the devices of the CPU and MPI providers (emulated devices share host memory); <c>cuda:ORDINAL</c> for a GPU.</returns>
    /// <exception cref="ArgumentException">The device belongs to no provider, or to a platform libtorch has no device for.</exception>
    public static torch.Device ToTorch(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Provider switch
        {
            CudaProvider cuda => new torch.Device(DeviceType.CUDA, cuda.Ordinals[device.Id]),
            { Platform: "cpu" } => torch.CPU,
            null => throw new ArgumentException($"Device {device} belongs to no provider.", nameof(device)),
            _ => throw new ArgumentException($"Device {device} is on platform '{device.Platform}', which has no libtorch device.", nameof(device)),
        };
    }

    /// <summary>Throws unless <paramref name="tensor"/> lives where <paramref name="device"/>'s memory is.</summary>
    /// <exception cref="ArgumentException">The tensor is on another libtorch device (both are named).</exception>
    internal static void RequireOn(torch.Tensor tensor, Device device, string paramName)
    {
        torch.Device expected = ToTorch(device);
        if (tensor.device_type != expected.type || (expected.type == DeviceType.CUDA && tensor.device_index != expected.index))
        {
            string actual = tensor.device_type == DeviceType.CUDA ? $"cuda:{tensor.device_index}" : tensor.device_type.ToString().ToLowerInvariant();
            throw new ArgumentException($"The tensor is on {actual}, but device {device} addresses {expected}; move it with tensor.to(...) first.", paramName);
        }
    }
}
