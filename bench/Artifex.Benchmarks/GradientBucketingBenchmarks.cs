using Artifex.Cpu;
using Artifex.Distributed;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// <see cref="DataParallel.AllReduceGradients(Tree{DeviceArray}, ReduceOp, string)"/> on a ResNet-50-like gradient tree
/// (161 leaves from 64 to 2.4 M floats, 25.6 M in all), leaf by leaf (bucket size 0) against DDP-style 25 MiB buckets.
/// One operation is one region in which every device reduces its whole tree.
/// </summary>
[MemoryDiagnoser]
public class GradientBucketingBenchmarks
{
    private CpuProvider _provider = null!;
    private Mesh _mesh = null!;
    private Tree<DeviceArray>[] _gradients = null!;
    private DataParallel _dataParallel = null!;
    private Action<SpmdContext> _body = null!;

    [Params(2, 4)]
    public int Devices { get; set; }

    [Params(0L, DataParallel.DefaultBucketSizeBytes)]
    public long BucketBytes { get; set; }

    /// <summary>Parameter sizes shaped like ResNet-50's: per stage, conv kernels and the batch-norm scale/bias pairs.</summary>
    public static IReadOnlyList<long> ResNetLikeSizes()
    {
        var sizes = new List<long> { 7 * 7 * 3 * 64, 64, 64 };
        int inChannels = 64;
        foreach ((int blocks, int width) in new[] { (3, 64), (4, 128), (6, 256), (3, 512) })
        {
            for (int b = 0; b < blocks; b++)
            {
                int outChannels = width * 4;
                sizes.AddRange([inChannels * width, width, width, 9L * width * width, width, width, (long)width * outChannels, outChannels, outChannels]);
                if (b == 0)
                {
                    sizes.AddRange([(long)inChannels * outChannels, outChannels, outChannels]);
                }

                inChannels = outChannels;
            }
        }

        sizes.AddRange([2048L * 1000, 1000]);
        return sizes;
    }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        _mesh = new Mesh(_provider.Devices, ("batch", Devices));
        _dataParallel = new DataParallel(AmbientCollectives.Instance, BucketBytes);
        IReadOnlyList<long> sizes = ResNetLikeSizes();
        _gradients = [.. _provider.Devices.Select(device => Tree.List<DeviceArray>(sizes.Select(size =>
        {
            DeviceArray<float> leaf = DeviceArray.Allocate<float>(device, size);
            leaf.CopyFrom(new float[size]);
            return Tree.Leaf<DeviceArray>(leaf);
        })))];
        _body = context =>
        {
            Tree<DeviceArray> mean = _dataParallel.AllReduceGradients(_gradients[context.DeviceIndex], ReduceOp.Mean, "batch");
            mean.DisposeLeaves();
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (Tree<DeviceArray> tree in _gradients)
        {
            tree.DisposeLeaves();
        }

        _provider.Dispose();
    }

    [Benchmark]
    public void AllReduceGradients() => _provider.RunSpmd(_mesh, _body);
}
