#!/usr/bin/env bash
# The before/after pictures of docs/tiling.md: street.jpg and crosswalk.jpg annotated by `lookout detect` with
# --tile off and --tile auto (default score 0.25), shrunk to at most 1200 px wide for the docs, each under 300 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
export LOOKOUT_ASSET_DIRS=${LOOKOUT_ASSET_DIRS:-$PWD/../shared/models:$PWD/../shared/models/darknet:$PWD/../shared/images}
out=test-output/tiling-examples
mkdir -p "$out" docs/images
dotnet build src/Lookout.Cli -c Release -v q -nologo >/dev/null
for t in off auto; do
  dotnet src/Lookout.Cli/bin/Release/net10.0/lookout.dll detect ../shared/images/street.jpg ../shared/images/crosswalk.jpg \
    --tile "$t" --out "$out/$t" --json -o "$out/$t.json" --no-progress >/dev/null
  for name in street crosswalk; do
    convert "$out/$t/$name.jpg" -resize '1200x>' -strip -quality 78 "docs/images/tiling-$name-$t.jpg"
    size=$(stat -c %s "docs/images/tiling-$name-$t.jpg")
    [ "$size" -lt 307200 ] || { echo "docs/images/tiling-$name-$t.jpg is $size bytes (limit 300 KB)" >&2; exit 1; }
    echo "docs/images/tiling-$name-$t.jpg $size bytes"
  done
done
