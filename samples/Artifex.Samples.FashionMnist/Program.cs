using Artifex.Samples.FashionMnist;
using Spectre.Console;

return TrainingCommand.Invoke(args, AnsiConsole.Console);
