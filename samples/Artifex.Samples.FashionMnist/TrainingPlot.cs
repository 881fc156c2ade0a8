using ScottPlot;

namespace Artifex.Samples.FashionMnist;

/// <summary>Draws loss and accuracy per epoch into one PNG (ScottPlot): losses on the left axis, accuracies on the right.</summary>
public static class TrainingPlot
{
    /// <summary>The main sample's model, as the title names it.</summary>
    public const string MlpModel = "MLP 784-512-10";

    /// <summary>Writes the plot.</summary>
    /// <param name="epochs">The epochs.</param>
    /// <param name="data">What was trained on, as the title says it: <c>Fashion-MNIST</c> or <c>synthetic data</c>.</param>
    /// <param name="devices">The device count.</param>
    /// <param name="path">The PNG path.</param>
    /// <param name="model">The model, as the title names it (other samples plot other models).</param>
    public static void Save(IReadOnlyList<EpochResult> epochs, string data, int devices, string path, string model = MlpModel)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        double[] x = [.. epochs.Select(e => (double)e.Epoch)];
        var plot = new Plot();
        plot.Title($"{model} on {data}, data-parallel over {devices} device{(devices == 1 ? string.Empty : "s")}");
        plot.XLabel("epoch");

        // Epochs are whole numbers: no ticks between them.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
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
