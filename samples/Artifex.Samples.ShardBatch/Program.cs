using System.CommandLine;
using Artifex.Samples.ShardBatch;

var devicesOption = new Option<int>("--devices") { Description = "Number of emulated CPU devices.", DefaultValueFactory = _ => 4 };
var rowsOption = new Option<int>("--rows") { Description = "Rows in the batch (must be divisible by --devices).", DefaultValueFactory = _ => 8 };
var root = new RootCommand("Shard a batch over a mesh of emulated CPU devices and show which rows each device holds.")
{
    devicesOption,
    rowsOption,
};
root.SetAction(result => ShardBatchDemo.Run(result.GetValue(devicesOption), result.GetValue(rowsOption)));
return root.Parse(args).Invoke();
