#!/usr/bin/env bash
# Publishes the CUDA tests as a self-contained bundle for a GPU machine that has no .NET SDK:
#   scripts/publish-cuda-tests.sh [OUT]        (default OUT: artifacts/cuda-tests)
# Run it there with:  ARTIFEX_REQUIRE_GPU=1 OUT/Artifex.Cuda.Tests -reporter verbose
# Trimming is partial on purpose: full trimming removes xunit's test discovery and the bundle then reports
# "0 tests" with exit code 0. GpuBundle=true leaves out Test.Sdk and the VSTest adapter, which only `dotnet test` needs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/cuda-tests}
rm -rf "$out"
dotnet publish tests/Artifex.Cuda.Tests -c Release -r linux-x64 --self-contained \
  -p:GpuBundle=true -p:PublishTrimmed=true -p:TrimMode=partial -p:InvariantGlobalization=true \
  -p:SatelliteResourceLanguages=en -p:DebugType=none -o "$out"
bytes=$(du -sb "$out" | cut -f1)
echo "bundle: $out, $((bytes / 1024 / 1024)) MiB, $(find "$out" -type f | wc -l) files"
if ((bytes >= 64 * 1024 * 1024)); then
  echo "the bundle is over 64 MiB: it cannot travel to the GPU machine" >&2
  exit 1
fi
