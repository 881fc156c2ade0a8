namespace Artifex;

// Elementwise kernels, the bias broadcast and column sums.
public abstract partial class DeviceKernels
{
    /// <summary>Sets every element of <paramref name="x"/> to <paramref name="value"/>.</summary>
    /// <param name="x">The buffer.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The buffer is not Single or belongs to another provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    public void Fill(DeviceBuffer x, float value)
    {
        CheckBuffer<float>(x, 0, "a vector", null, nameof(x));
        FillCore(x, value);
    }

    /// <summary><c>result[i] = x[i] + y[i]</c>.</summary>
    /// <param name="x">The first input.</param>
    /// <param name="y">The second input, same length.</param>
    /// <param name="result">The output, same length; may be x or y.</param>
    /// <exception cref="ArgumentException">The lengths differ, or a buffer is not Single or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void Add(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result)
    {
        CheckBinary(x, y, result);
        AddCore(x, y, result);
    }

    /// <summary><c>result[i] = x[i] · y[i]</c>.</summary>
    /// <param name="x">The first input.</param>
    /// <param name="y">The second input, same length.</param>
    /// <param name="result">The output, same length; may be x or y.</param>
    /// <exception cref="ArgumentException">The lengths differ, or a buffer is not Single or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void Multiply(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result)
    {
        CheckBinary(x, y, result);
        MultiplyCore(x, y, result);
    }

    /// <summary>
    /// Converts between Single and Half: <c>destination[i] = (Half)(source[i] / divisor)</c> (one division in Single, one
    /// rounding to Half), or <c>destination[i] = (float)source[i]</c> (exact). The casts of compressed gradient
    /// communication: dividing by the participant count before the cast keeps a Half sum from overflowing.
    /// </summary>
    /// <param name="source">A Single or Half buffer.</param>
    /// <param name="destination">A Half buffer for a Single source, a Single buffer for a Half one; same length and device.</param>
    /// <param name="divisor">Divides a Single source before the cast; must be 1 for a Half source.</param>
    /// <exception cref="ArgumentException">Not a Single/Half pair, the lengths or devices differ, or a divisor with a Half source.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="divisor"/> is not finite and positive.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void Convert(DeviceBuffer source, DeviceBuffer destination, float divisor = 1f)
    {
        if (!float.IsFinite(divisor) || divisor <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor, "The divisor must be finite and positive.");
        }

        ArgumentNullException.ThrowIfNull(source);
        Device device;
        if (source.ElementType == typeof(float))
        {
            device = CheckBuffer<float>(source, 0, "a vector", null, nameof(source));
            CheckExact<Half>(destination, source.Length, device, nameof(destination));
        }
        else
        {
            device = CheckBuffer<Half>(source, 0, "a vector", null, nameof(source));
            CheckExact<float>(destination, source.Length, device, nameof(destination));
            if (divisor != 1f)
            {
                throw new ArgumentException("Only a Single source is divided before the cast; a Half source converts exactly.", nameof(divisor));
            }
        }

        ConvertCore(source, destination, divisor);
    }

    /// <summary><c>result[i] = max(x[i], 0)</c>; NaN stays NaN.</summary>
    /// <param name="x">The input.</param>
    /// <param name="result">The output, same length; may be x.</param>
    /// <exception cref="ArgumentException">The lengths differ, or a buffer is not Single or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void Relu(DeviceBuffer x, DeviceBuffer result)
    {
        Device device = CheckBuffer<float>(x, 0, "a vector", null, nameof(x));
        CheckExact<float>(result, x.Length, device, nameof(result));
        ReluCore(x, result);
    }

    /// <summary>The ReLU backward pass: <c>gradInput[i] = output[i] &gt; 0 ? gradOutput[i] : 0</c>.</summary>
    /// <param name="gradOutput">The gradient with respect to the ReLU's output.</param>
    /// <param name="output">The ReLU's output of the forward pass (positive exactly where its input was).</param>
    /// <param name="gradInput">The gradient with respect to the ReLU's input; may be gradOutput.</param>
    /// <exception cref="ArgumentException">The lengths differ, or a buffer is not Single or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void ReluBackward(DeviceBuffer gradOutput, DeviceBuffer output, DeviceBuffer gradInput)
    {
        Device device = CheckBuffer<float>(gradOutput, 0, "a vector", null, nameof(gradOutput));
        CheckExact<float>(output, gradOutput.Length, device, nameof(output));
        CheckExact<float>(gradInput, gradOutput.Length, device, nameof(gradInput));
        ReluBackwardCore(gradOutput, output, gradInput);
    }

    /// <summary>Adds a bias row to every row of a matrix in place: <c>matrix[r, c] += bias[c]</c>.</summary>
    /// <param name="matrix">A dense rows×columns matrix.</param>
    /// <param name="rows">The row count.</param>
    /// <param name="columns">The column count.</param>
    /// <param name="bias">The bias, <paramref name="columns"/> long.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is too short, is not Single, or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void AddBias(DeviceBuffer matrix, int rows, int columns, DeviceBuffer bias)
    {
        CheckMatrixSize(rows, columns, nameof(rows), nameof(columns));
        Device device = CheckBuffer<float>(matrix, (long)rows * columns, new ShapeText("a {0}×{1} matrix", rows, columns), null, nameof(matrix));
        CheckBuffer<float>(bias, columns, new ShapeText("a bias of {0}", columns), device, nameof(bias));
        AddBiasCore(matrix, rows, columns, bias);
    }

    /// <summary>Sums the rows of a matrix: <c>sums[c] = Σ_r matrix[r, c]</c>, added in row order (the bias gradient).</summary>
    /// <param name="matrix">A dense rows×columns matrix.</param>
    /// <param name="rows">The row count; 0 gives zeros.</param>
    /// <param name="columns">The column count.</param>
    /// <param name="sums">The output, <paramref name="columns"/> long; overwritten.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is too short, is not Single, or is on another device or provider; sums is the matrix.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void ColumnSums(DeviceBuffer matrix, int rows, int columns, DeviceBuffer sums)
    {
        CheckMatrixSize(rows, columns, nameof(rows), nameof(columns));
        Device device = CheckBuffer<float>(matrix, (long)rows * columns, new ShapeText("a {0}×{1} matrix", rows, columns), null, nameof(matrix));
        CheckBuffer<float>(sums, columns, new ShapeText("{0} column sums", columns), device, nameof(sums));
        if (ReferenceEquals(matrix, sums))
        {
            throw new ArgumentException("sums: the output is the matrix itself.", nameof(sums));
        }

        ColumnSumsCore(matrix, rows, columns, sums);
    }

    /// <summary>Fills a validated buffer.</summary>
    /// <param name="x">The buffer.</param>
    /// <param name="value">The value.</param>
    protected abstract void FillCore(DeviceBuffer x, float value);

    /// <summary>Adds validated buffers.</summary>
    /// <param name="x">The first input.</param>
    /// <param name="y">The second input.</param>
    /// <param name="result">The output.</param>
    protected abstract void AddCore(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result);

    /// <summary>Multiplies validated buffers.</summary>
    /// <param name="x">The first input.</param>
    /// <param name="y">The second input.</param>
    /// <param name="result">The output.</param>
    protected abstract void MultiplyCore(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result);

    /// <summary>Converts validated buffers (see <see cref="Convert"/>).</summary>
    /// <param name="source">A Single or Half buffer.</param>
    /// <param name="destination">The other type, same length.</param>
    /// <param name="divisor">The divisor of a Single source (1 for a Half one).</param>
    protected abstract void ConvertCore(DeviceBuffer source, DeviceBuffer destination, float divisor);

    /// <summary>Applies ReLU to validated buffers.</summary>
    /// <param name="x">The input.</param>
    /// <param name="result">The output.</param>
    protected abstract void ReluCore(DeviceBuffer x, DeviceBuffer result);

    /// <summary>Runs the ReLU backward pass on validated buffers.</summary>
    /// <param name="gradOutput">The output gradient.</param>
    /// <param name="output">The forward output.</param>
    /// <param name="gradInput">The input gradient.</param>
    protected abstract void ReluBackwardCore(DeviceBuffer gradOutput, DeviceBuffer output, DeviceBuffer gradInput);

    /// <summary>Adds a validated bias to every row.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <param name="rows">The row count.</param>
    /// <param name="columns">The column count.</param>
    /// <param name="bias">The bias.</param>
    protected abstract void AddBiasCore(DeviceBuffer matrix, int rows, int columns, DeviceBuffer bias);

    /// <summary>Sums the rows of a validated matrix.</summary>
    /// <param name="matrix">The matrix.</param>
    /// <param name="rows">The row count.</param>
    /// <param name="columns">The column count.</param>
    /// <param name="sums">The output.</param>
    protected abstract void ColumnSumsCore(DeviceBuffer matrix, int rows, int columns, DeviceBuffer sums);

    private void CheckBinary(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result)
    {
        Device device = CheckBuffer<float>(x, 0, "a vector", null, nameof(x));
        CheckExact<float>(y, x.Length, device, nameof(y));
        CheckExact<float>(result, x.Length, device, nameof(result));
    }
}
