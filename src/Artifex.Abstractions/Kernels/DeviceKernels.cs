using System.Globalization;

namespace Artifex;

/// <summary>
/// The kernel contract a data-parallel model needs on one device: the BLAS half (<see cref="Gemm(MatrixOperation, MatrixOperation, int, int, int, float, DeviceBuffer, int, DeviceBuffer, int, float, DeviceBuffer, int)"/>,
/// <see cref="Axpy"/>, <see cref="Scale"/>, mapping 1:1 onto cuBLAS's <c>Sgemm</c>, <c>Saxpy</c> and <c>Sscal</c>), elementwise
/// kernels, row and column reductions, softmax cross-entropy, and the Adam and SGD updates. All operate on
/// <see cref="float"/> buffers (labels are <see cref="int"/>); matrices are row-major.
/// </summary>
/// <remarks>
/// <para>
/// Every public member validates first and then calls a protected <c>…Core</c> member, so a provider cannot skip
/// validation and bad input is rejected before any buffer changes. All buffers of one call must belong to this
/// kernels' provider and live on one device. Outputs may alias inputs of the same length (in place) unless a member
/// says otherwise.
/// </para>
/// <para>
/// Kernels run in the order they are issued on their device. The CPU provider runs them synchronously on the calling
/// thread (inside an SPMD region, the device's own worker); a GPU provider queues them on the device's stream.
/// </para>
/// </remarks>
public abstract partial class DeviceKernels
{
    /// <summary>Initializes the kernels of a provider.</summary>
    /// <param name="provider">The provider whose buffers these kernels accept.</param>
    /// <exception cref="ArgumentNullException"><paramref name="provider"/> is null.</exception>
    protected DeviceKernels(DeviceProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Provider = provider;
    }

    /// <summary>Gets the provider whose buffers these kernels accept.</summary>
    public DeviceProvider Provider { get; }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private Device CheckBuffer<T>(DeviceBuffer buffer, long required, ShapeText shape, Device? device, string paramName)
    {
        ObjectDisposedException.ThrowIf(Provider.IsDisposed, Provider);
        ArgumentNullException.ThrowIfNull(buffer, paramName);
        ObjectDisposedException.ThrowIf(buffer.IsDisposed, buffer);
        if (!ReferenceEquals(buffer.Provider, Provider))
        {
            throw new ArgumentException($"{paramName}: {buffer} was allocated by another provider.", paramName);
        }

        if (buffer.ElementType != typeof(T))
        {
            throw new ArgumentException($"{paramName}: {buffer} holds {buffer.ElementType.Name}; this kernel needs {typeof(T).Name}.", paramName);
        }

        if (device is not null && !ReferenceEquals(buffer.Device, device))
        {
            throw new ArgumentException($"{paramName}: {buffer} is on {buffer.Device}, but the other operands are on {device}.", paramName);
        }

        if (buffer.Length < required)
        {
            throw new ArgumentException($"{paramName}: {buffer} holds {Count(buffer.Length)} elements, but {shape} needs {Count(required)}.", paramName);
        }

        return buffer.Device;
    }

    private Device CheckFloating(DeviceBuffer buffer, string paramName)
    {
        ArgumentNullException.ThrowIfNull(buffer, paramName);
        return buffer.ElementType == typeof(double)
            ? CheckBuffer<double>(buffer, 0, "a vector", null, paramName)
            : buffer.ElementType == typeof(float)
                ? CheckBuffer<float>(buffer, 0, "a vector", null, paramName)
                : throw new ArgumentException($"{paramName}: {buffer} holds {buffer.ElementType.Name}; this kernel needs Single or Double.", paramName);
    }

    private Device CheckExact<T>(DeviceBuffer buffer, long length, Device? device, string paramName)
    {
        Device owner = CheckBuffer<T>(buffer, length, new ShapeText("a vector of {0:N0}", length), device, paramName);
        if (buffer.Length != length)
        {
            throw new ArgumentException($"{paramName}: {buffer} holds {Count(buffer.Length)} elements, but the other operands hold {Count(length)}.", paramName);
        }

        return owner;
    }

    private static void CheckMatrixSize(int rows, int columns, string rowsName, string columnsName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows, rowsName);
        ArgumentOutOfRangeException.ThrowIfNegative(columns, columnsName);
    }
}
