using ScottPlot;

namespace Artifex.Samples.FashionMnist;

/// <summary>Draws loss and accuracy per epoch into one PNG (ScottPlot): losses on the left axis, accuracies on the right.</summary>
public static class TrainingPlot
{
    /// <summary>Writes the plot.</summary>
    /// <param name="epochs">The epochs.</param>
    /// <param name="path">The PNG path.</param>
    public static void Save(IReadOnlyList<EpochResult> epochs, string path)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        double[] x = [.. epochs.Select(e => (double)e.Epoch)];
        var plot = new Plot();
        plot.Title("MLP 784-512-10 on Fashion-MNIST, data-parallel");
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.Axes.Right.Label.Text = "accuracy";

        var trainLoss = plot.Add.Scatter(x, [.. epochs.Select(e => e.TrainLoss)]);
        trainLoss.LegendText = "train loss";
        var testLoss = plot.Add.Scatter(x, [.. epochs.Select(e => e.TestLoss)]);
        testLoss.LegendText = "test loss";
        var trainAccuracy = plot.Add.Scatter(x, [.. epochs.Select(e => e.TrainAccuracy)]);
        trainAccuracy.LegendText = "train accuracy";
        trainAccuracy.Axes.YAxis = plot.Axes.Right;
        var testAccuracy = plot.Add.Scatter(x, [.. epochs.Select(e => e.TestAccuracy)]);
        testAccuracy.LegendText = "test accuracy";
        testAccuracy.Axes.YAxis = plot.Axes.Right;
        plot.ShowLegend(Alignment.MiddleRight);
        plot.SavePng(path, 900, 540);
    }
}
