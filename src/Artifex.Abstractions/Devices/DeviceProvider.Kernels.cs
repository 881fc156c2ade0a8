using System.Runtime.CompilerServices;

namespace Artifex;

/// <summary>The provider's kernels: <see cref="Kernels"/> (the training contract) and the double-or-single in-place scaling the collectives use.</summary>
public abstract partial class DeviceProvider
{
    /// <summary>Gets the kernel contract of this provider (GEMM, elementwise, loss and optimizer kernels).</summary>
    /// <exception cref="NotSupportedException">The provider has no kernels.</exception>
    public virtual DeviceKernels Kernels => throw new NotSupportedException($"The {Platform} provider has no kernels.");

    /// <summary>Multiplies every element of a buffer by <paramref name="multiplier"/> in place: <c>x[i] = x[i] · multiplier</c>.</summary>
    /// <param name="buffer">A live floating-point buffer of this provider (Single or Double).</param>
    /// <param name="multiplier">The factor, converted to the element type once.</param>
    /// <exception cref="ArgumentException">The buffer belongs to another provider or is not Single or Double.</exception>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    public void Scale(DeviceBuffer buffer, double multiplier)
    {
        ValidateFloatingKernel(buffer);
        ScaleCore(buffer, multiplier, divide: false);
    }

    /// <summary>Divides every element of a buffer by <paramref name="divisor"/> in place: <c>x[i] = x[i] / divisor</c> (one rounding, unlike scaling by 1/divisor).</summary>
    /// <param name="buffer">A live floating-point buffer of this provider (Single or Double).</param>
    /// <param name="divisor">The divisor, converted to the element type once.</param>
    /// <exception cref="ArgumentException">The buffer belongs to another provider or is not Single or Double.</exception>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    public void Divide(DeviceBuffer buffer, double divisor)
    {
        ValidateFloatingKernel(buffer);
        ScaleCore(buffer, divisor, divide: true);
    }

    /// <summary>Scales or divides a validated Single or Double buffer in place.</summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="factor">The multiplier or divisor.</param>
    /// <param name="divide">True to divide.</param>
    /// <exception cref="NotSupportedException">Always, unless overridden.</exception>
    protected virtual void ScaleCore(DeviceBuffer buffer, double factor, bool divide) =>
        throw new NotSupportedException($"The {Platform} provider has no scaling kernel.");

    private void ValidateFloatingKernel(DeviceBuffer buffer, [CallerArgumentExpression(nameof(buffer))] string? paramName = null)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(buffer, paramName);
        ObjectDisposedException.ThrowIf(buffer.IsDisposed, buffer);
        if (!ReferenceEquals(buffer.Provider, this))
        {
            throw new ArgumentException($"{buffer} was allocated by another provider.", paramName);
        }

        if (buffer.ElementType != typeof(float) && buffer.ElementType != typeof(double))
        {
            throw new ArgumentException($"{buffer} holds {buffer.ElementType.Name}; scaling needs Single or Double.", paramName);
        }
    }
}
