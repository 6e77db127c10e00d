#!/usr/bin/env bash
# Sets up and starts Lookout on a fresh Debian/Ubuntu machine: installs the .NET 10 SDK if missing (into
# ~/.dotnet), a bold sans font if missing, builds, fetches the model (verified by size and SHA-256) and serves
# on port 5000. Extra arguments go to `lookout serve` (e.g. --port 8080, --cert … --key …, --model …).
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  if [ -x "$HOME/.dotnet/dotnet" ] && "$HOME/.dotnet/dotnet" --list-sdks | grep -q '^10\.'; then
    export PATH="$HOME/.dotnet:$PATH"
  else
    echo "Installing the .NET 10 SDK into ~/.dotnet (Microsoft's dotnet-install script)…"
    curl -fsSL https://dot.net/v1/dotnet-install.sh -o /tmp/dotnet-install.sh
    bash /tmp/dotnet-install.sh --channel 10.0 --install-dir "$HOME/.dotnet"
    export PATH="$HOME/.dotnet:$PATH"
  fi
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Two glibc malloc arenas keep native memory from fragmenting under load (see src/Lookout.Server/Hosting/MallocArenas.cs).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

# Annotated images need a bold sans font; without one Lookout refuses to start rather than draw empty tags.
if ! ls /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf >/dev/null 2>&1 && [ -z "${LOOKOUT_FONT:-}" ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq fonts-dejavu-core;
  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq fonts-dejavu-core;
  else echo "Install a bold sans font (apt-get install fonts-dejavu-core) or set LOOKOUT_FONT=/path/to/font.ttf" >&2; exit 1; fi
fi

# A checkout beside the project's shared assets uses them instead of downloading.
if [ -d "$root/../shared/models" ]; then
  export LOOKOUT_ASSET_DIRS="${LOOKOUT_ASSET_DIRS:+$LOOKOUT_ASSET_DIRS:}$root/../shared/models:$root/../shared/models/darknet:$root/../shared/images"
fi

dotnet publish src/Lookout.Cli -c Release -o "$root/artifacts/lookout" -nologo -v quiet
exec dotnet "$root/artifacts/lookout/lookout.dll" serve "$@"
