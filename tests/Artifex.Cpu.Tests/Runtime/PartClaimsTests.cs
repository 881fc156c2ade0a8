using Artifex.Runtime;

namespace Artifex.Cpu.Tests.Runtime;

/// <summary>The chunk claims of a round: a chunk that throws still ends the round, and its failure reaches every waiter.</summary>
public sealed class PartClaimsTests
{
    [Fact]
    public void Work_ChunkThrows_TheRoundStillEnds_AndThrowIfFailedReportsIt()
    {
        var claims = new PartClaims(2);
        claims.Reset(8);
        var runner = new FailingRunner(failAt: 2);

        bool finished = claims.Work(0, ref runner) | claims.Work(1, ref runner);

        Assert.True(finished);
        Assert.True(claims.IsDone);
        var error = Assert.Throws<InvalidOperationException>(claims.ThrowIfFailed);
        Assert.Equal("chunk 2 failed", error.Message);
        Assert.Same(claims.Failure, error.InnerException);

        claims.Reset(8);
        var healthy = new FailingRunner(failAt: -1);
        claims.Work(0, ref healthy);
        Assert.True(claims.IsDone);
        Assert.Null(claims.Failure);
        claims.ThrowIfFailed();
    }

    private readonly struct FailingRunner(int failAt) : IChunkRunner
    {
        public void RunChunks(int first, int end)
        {
            if (failAt >= first && failAt < end)
            {
                throw new InvalidOperationException($"chunk {failAt} failed");
            }
        }
    }
}
