using System.Globalization;

namespace Artifex.Perf;

/// <summary>Parses sizes such as <c>8</c>, <c>64K</c>, <c>16M</c>, <c>1G</c> (powers of 1024), as nccl-tests does.</summary>
internal static class ByteSize
{
    /// <summary>The largest size accepted, 1024G: above any one device's memory, and far from overflowing the byte arithmetic.</summary>
    public const long Max = 1L << 40;

    /// <summary>Parses a size; false for anything but digits with an optional K, M or G suffix, or a size above <see cref="Max"/>.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        long multiplier = char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            _ => 1,
        };
        string digits = multiplier == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > Max / multiplier)
        {
            return false;
        }

        bytes = value * multiplier;
        return true;
    }

    /// <summary>Parses <c>--minbytes</c> and <c>--maxbytes</c>; returns one line naming the option and the value, or null.</summary>
    public static string? TryParseRange(string minText, string maxText, out long min, out long max)
    {
        max = 0;
        if (!TryParse(minText, out min))
        {
            return $"--minbytes '{minText}' is not a size: digits with an optional K, M or G suffix (powers of 1024), at most {Format(Max)}.";
        }

        if (!TryParse(maxText, out max))
        {
            return $"--maxbytes '{maxText}' is not a size: digits with an optional K, M or G suffix (powers of 1024), at most {Format(Max)}.";
        }

        if (min <= 0)
        {
            return $"--minbytes must be positive, not '{minText}'.";
        }

        return max < min ? $"--maxbytes '{maxText}' is below --minbytes '{minText}'." : null;
    }

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30}G",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20}M",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10}K",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
