namespace Artifex.TestLogger;

/// <summary>Text written to the console followed by a line break, and its colour on a terminal.</summary>
/// <param name="Text">The text; a multi-line message or stack trace stays one entry, as the console logger writes it.</param>
/// <param name="Color">The colour on a terminal (<see langword="null"/>: the default); redirected output has none.</param>
public readonly record struct ConsoleLine(string Text, ConsoleColor? Color = null);
