namespace Artifex.Tests;

/// <summary>Expected exception texts.</summary>
internal static class ExceptionText
{
    /// <summary>The <see cref="Exception.Message"/> of an <see cref="ArgumentException"/> created with a message and a parameter name.</summary>
    public static string WithParameter(string message, string parameterName) => $"{message} (Parameter '{parameterName}')";
}
