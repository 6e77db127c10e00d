#!/usr/bin/env bash
# Runs every test: engine, CLI, server (real HTTP on loopback) and browser (Debian's chromium).
# On a fresh Debian machine it installs what it needs first: the .NET 10 SDK (into ~/.dotnet) and the Debian
# packages listed in scripts/prerequisites.sh (as root, or through sudo; otherwise it stops with the apt-get line).
# Needs the shared assets beside the repository (../shared) or in LOOKOUT_ASSET_DIRS.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
source "$root/scripts/prerequisites.sh"
lookout_ensure_packages "${LOOKOUT_TEST_PACKAGES[@]}"
lookout_ensure_dotnet
shared="$root/../shared"
if [ -d "$shared" ]; then
  export LOOKOUT_ASSET_DIRS="${LOOKOUT_ASSET_DIRS:+$LOOKOUT_ASSET_DIRS:}$shared/models:$shared/models/darknet:$shared/images"
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="$root/test-output/results"
rm -rf "$results"
mkdir -p "$results"

dotnet build Lookout.slnx -c Release -nologo -v quiet
# One test assembly at a time (-m:1): the timing-sensitive tests (back-pressure, live camera) must not share
# the two cores with another assembly's model runs.
status=0
dotnet test Lookout.slnx -c Release --no-build -m:1 --logger "trx" --results-directory "$results" "$@" || status=$?

# One plain closing line over all assemblies.
python3 - "$results" <<'PY'
import glob, re, sys
p = f = s = 0
for trx in glob.glob(sys.argv[1] + "/*.trx"):
    text = open(trx, encoding="utf-8").read()
    m = re.search(r'<Counters [^>]*', text)
    if not m: continue
    c = dict(re.findall(r'(\w+)="(\d+)"', m.group(0)))
    p += int(c.get("passed", 0)); f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    s += int(c.get("notExecuted", 0))
print(f"{p} passed, {f} failed, {s} skipped")
PY
exit $status
