using Artifex.Samples.TorchSharp;
using Spectre.Console;

return CnnCommand.Invoke(args, AnsiConsole.Console);
