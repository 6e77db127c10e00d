#!/usr/bin/env bash
# Chooses how photos become the model input by accuracy (issue 12 step 2; docs/large-photos.md).
# Evaluates every ModelInputRule candidate with `lookout eval` (the project's COCO metric) on the val2017 dev set and
# coco128, each as given and enlarged 2× and 4× (so reduced JPEG decodes and big shrinks happen), the candidates
# taking turns image by image so their decode + resize times come from the same moments. Writes a markdown table and
# the rule it picks: the fastest candidate whose AP is within 0.003 of the best candidate's on every set.
#   bench/large-photos.sh [MODEL] [OUT_DIR]     (default yolox-nano, /tmp/lookout-large-photos; enlarged sets cached there)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-yolox-nano}
out=${2:-/tmp/lookout-large-photos}
shared=${LOOKOUT_SHARED:-../shared}
val=$shared/data/coco-val2017-dev
c128=$shared/data/coco128
rules=full-bilinear,full-area,dct-halving-bilinear,dct-halving-area,dct-eighths-bilinear,dct-eighths-area
assets=(--asset-dir "$shared/models" --asset-dir "$shared/models/darknet" --asset-dir "$shared/images" --offline)

dotnet build -c Release src/Lookout.Cli >/dev/null
dotnet build -c Release bench/Lookout.Bench >/dev/null
lookout=(dotnet src/Lookout.Cli/bin/Release/net10.0/lookout.dll)
bench=(dotnet bench/Lookout.Bench/bin/Release/net10.0/Lookout.Bench.dll)
mkdir -p "$out"
for f in 2 4; do
  "${bench[@]}" enlarge "$val/images" $f "$out/val-${f}x" "$val/instances_val2017_dev.json"
  "${bench[@]}" enlarge "$c128/images" $f "$out/coco128-${f}x"
done

run() { # name images labels-option...
  local name=$1 images=$2; shift 2
  echo "eval $name ..." >&2
  "${lookout[@]}" eval "${assets[@]}" --model "$model" --images "$images" "$@" --input-rule "$rules" \
    --json --output "$out/eval-$name.json" --no-progress >/dev/null
}
run val-1x "$val/images" --coco-json "$val/instances_val2017_dev.json"
run val-2x "$out/val-2x/images" --coco-json "$out/val-2x/instances.json"
run val-4x "$out/val-4x/images" --coco-json "$out/val-4x/instances.json"
run coco128-1x "$c128/images" --labels "$c128/labels"
run coco128-2x "$out/coco128-2x/images" --labels "$c128/labels"
run coco128-4x "$out/coco128-4x/images" --labels "$c128/labels"

python3 bench/large-photos-table.py "$out"
