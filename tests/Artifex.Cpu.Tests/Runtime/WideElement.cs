using System.Runtime.CompilerServices;

namespace Artifex.Cpu.Tests.Runtime;

/// <summary>An element type larger than a collective chunk (40,000 bytes).</summary>
[InlineArray(Length)]
internal struct WideElement
{
    public const int Length = 10_000;

    private float _element;
}
