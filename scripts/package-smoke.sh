#!/usr/bin/env bash
# What a new user does, from the packages alone: pack every src project into a local folder feed, create a console app
# outside the repository, add Artifex.Cpu from that feed (third-party dependencies from nuget.org), paste the README's
# quick start as Program.cs, run it and check what it prints; then install the template package, scaffold an
# artifex-train app and run it (it exits 0 only when training recovered the true weights).
# Usage: scripts/package-smoke.sh [WORK_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
feed="$work/feed"
mkdir -p "$feed"

for project in "$root"/src/*/*.csproj; do
  dotnet pack "$project" -c Release -o "$feed" --nologo -v quiet
done

package=$(find "$feed" -name 'Artifex.Cpu.*.nupkg' ! -name '*.snupkg' | head -n 1)
version=$(basename "$package" .nupkg)
version=${version#Artifex.Cpu.}
for name in Artifex.Abstractions Artifex.Cpu Artifex.Mpi Artifex.Cuda Artifex.TorchSharp; do
  nupkg="$feed/$name.$version.nupkg"
  [ -f "$nupkg" ] || { echo "package-smoke: $name $version was not packed" >&2; exit 1; }
  [ -f "$feed/$name.$version.snupkg" ] || { echo "package-smoke: $name has no symbol package" >&2; exit 1; }
  # Listings are read whole first: grep -q stopping early would fail the pipe under pipefail.
  listing=$(unzip -l "$nupkg")
  for entry in LICENSE README.md "lib/net10.0/$name.dll" "lib/net10.0/$name.xml"; do
    grep -q " $entry\$" <<<"$listing" || { echo "package-smoke: $name's package lacks $entry" >&2; exit 1; }
  done
  nuspec=$(unzip -p "$nupkg" "$name.nuspec")
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" \
    || { echo "package-smoke: $name's package does not declare the MIT licence" >&2; exit 1; }
done

# Artifex.TorchSharp's build step reaches its users as MSBuild targets and the C# source of their task.
listing=$(unzip -l "$feed/Artifex.TorchSharp.$version.nupkg")
for entry in buildTransitive/Artifex.TorchSharp.targets buildTransitive/WeakenVersionNeed.cs; do
  grep -q " $entry\$" <<<"$listing" || { echo "package-smoke: Artifex.TorchSharp's package lacks $entry" >&2; exit 1; }
done

# A package cache of its own: a cache that already holds this version would hide what was just packed.
export NUGET_PACKAGES="$work/nuget-packages"
app="$work/app"
rm -rf "$app"
dotnet new console -n QuickStart -o "$app" --framework net10.0 >/dev/null
cat >"$app/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="artifex-local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
CONFIG
(cd "$app" && dotnet add package Artifex.Cpu --version "$version" >/dev/null)

# The README's quick start: the first C# block after its "## Quick start" heading, verbatim.
awk '/^## Quick start/{q=1} q&&/^```csharp/{c=1; next} c&&/^```/{exit} c{print}' "$root/README.md" >"$app/Program.cs"
[ -s "$app/Program.cs" ] || { echo "package-smoke: no quick start found in README.md" >&2; exit 1; }

output=$(cd "$app" && dotnet run -c Release)
expected=$'cpu:0 holds rows 0:2\ncpu:1 holds rows 2:4\ncpu:2 holds rows 4:6\ncpu:3 holds rows 6:8'
if [ "$output" != "$expected" ]; then
  printf 'package-smoke: the quick start printed\n%s\ninstead of\n%s\n' "$output" "$expected" >&2
  exit 1
fi

echo "package-smoke: Artifex.Cpu $version from a local feed ran the README's quick start in a new console app"

# The template, from its package, into a template cache of its own (the user's is left alone).
templates="$feed/Artifex.Templates.$version.nupkg"
[ -f "$templates" ] || { echo "package-smoke: Artifex.Templates $version was not packed" >&2; exit 1; }
export DOTNET_CLI_HOME="$work/cli-home"
mkdir -p "$DOTNET_CLI_HOME"
dotnet new install "$templates" >/dev/null
train="$work/train"
rm -rf "$train"
dotnet new artifex-train -n MyTraining -o "$train" >/dev/null
cp "$app/nuget.config" "$train/nuget.config"
if ! trained=$(cd "$train" && dotnet run -c Release); then
  printf 'package-smoke: the artifex-train app failed:\n%s\n' "$trained" >&2
  exit 1
fi
echo "$trained" | tail -n 2
echo "package-smoke: the artifex-train template scaffolded an app that trained to the true weights"
