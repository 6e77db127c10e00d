#!/usr/bin/env bash
# Sets up and starts Lookout on a fresh Debian/Ubuntu machine: installs the .NET 10 SDK if missing (into
# ~/.dotnet), a bold sans font if missing, builds, fetches the model (verified by size and SHA-256) and serves
# on port 5000, with a models folder in the user's data folder. Extra arguments go to `lookout serve` (e.g.
# --port 8080, --cert … --key …, --model …, --model-dir DIR).
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

source "$root/scripts/prerequisites.sh"
lookout_ensure_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Two glibc malloc arenas keep native memory from fragmenting under load (see src/Lookout.Server/Hosting/MallocArenas.cs).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

# Annotated images need a bold sans font; without one Lookout refuses to start rather than draw empty tags.
if ! ls /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf >/dev/null 2>&1 && [ -z "${LOOKOUT_FONT:-}" ]; then
  lookout_ensure_packages fonts-dejavu-core || { echo "Or set LOOKOUT_FONT=/path/to/a-bold-font.ttf" >&2; exit 1; }
fi

# A checkout beside the project's shared assets uses them instead of downloading.
if [ -d "$root/../shared/models" ]; then
  export LOOKOUT_ASSET_DIRS="${LOOKOUT_ASSET_DIRS:+$LOOKOUT_ASSET_DIRS:}$root/../shared/models:$root/../shared/models/darknet:$root/../shared/images"
fi

# The models folder: every NAME.onnx (or Darknet NAME.cfg + NAME.weights) put here is served as the model NAME,
# picked up while Lookout runs. A user data folder by default; LOOKOUT_MODELS_DIR moves it, and further
# --model-dir arguments add folders.
models_dir="${LOOKOUT_MODELS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/lookout/models}"
mkdir -p "$models_dir"
echo "Models folder: $models_dir (copy NAME.onnx there to serve the model NAME)" >&2

# For this machine's architecture only (linux-x64 or linux-arm64): without -r every platform's natives are copied.
rid=$(lookout_rid)
dotnet publish src/Lookout.Cli -c Release -r "$rid" --self-contained false -o "$root/artifacts/lookout" -nologo -v quiet
exec dotnet "$root/artifacts/lookout/lookout.dll" serve --model-dir "$models_dir" "$@"
