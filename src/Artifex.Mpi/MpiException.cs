using System.Globalization;

namespace Artifex.Mpi;

/// <summary>An MPI call returned an error code.</summary>
/// <remarks>
/// <para>
/// The message reads <c>MPI_Bcast failed: MPI_ERR_ROOT: invalid root (error 8)</c>: the entry point, then the text of
/// <c>MPI_Error_string</c>, which starts with the error class's name, then the code.
/// </para>
/// <para>
/// MPI 3.1 leaves a communicator in an undefined state after a failed collective (OpenMPI 4.1 has no fault tolerance by
/// default): treat this exception as fatal for the job, and end it with <see cref="MpiRuntime.Abort"/> rather than retry.
/// </para>
/// </remarks>
public class MpiException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="MpiException"/> class.</summary>
    public MpiException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MpiException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public MpiException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MpiException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public MpiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MpiException"/> class from a failed MPI call.</summary>
    /// <param name="api">The entry point that failed, e.g. <c>MPI_Bcast</c>.</param>
    /// <param name="errorCode">The code it returned.</param>
    /// <param name="errorText">The text of <c>MPI_Error_string</c> for the code, e.g. <c>MPI_ERR_ROOT: invalid root</c>.</param>
    public MpiException(string api, int errorCode, string errorText)
        : base(FormatMessage(api, errorCode, errorText))
    {
        Api = api;
        ErrorCode = errorCode;
        ErrorText = errorText;
    }

    /// <summary>Gets the entry point that failed, e.g. <c>MPI_Bcast</c>; empty when unknown.</summary>
    public string Api { get; } = string.Empty;

    /// <summary>Gets the MPI error code the entry point returned (e.g. 8, <c>MPI_ERR_ROOT</c>).</summary>
    public int ErrorCode { get; }

    /// <summary>Gets the text of <c>MPI_Error_string</c> for <see cref="ErrorCode"/>; empty when unknown.</summary>
    public string ErrorText { get; } = string.Empty;

    private static string FormatMessage(string api, int errorCode, string errorText) =>
        string.Create(CultureInfo.InvariantCulture, $"{api} failed: {errorText} (error {errorCode})");
}
