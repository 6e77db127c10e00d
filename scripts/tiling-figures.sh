#!/usr/bin/env bash
# The sliced-inference figures of README.md and docs/tiling.md: `lookout eval --tile auto` against `--tile off` on the
# val2017 dev set as given and enlarged 2× (the enlarged copy, with its annotations scaled, is written under
# test-output/: never commit it). Runs alternate off, auto, off, auto… for ROUNDS rounds so both see the same machine;
# the time figure is the median of the per-round ratios. Usage: scripts/tiling-figures.sh [ROUNDS] (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
export LOOKOUT_ASSET_DIRS=${LOOKOUT_ASSET_DIRS:-$PWD/../shared/models:$PWD/../shared/models/darknet:$PWD/../shared/images}
val=../shared/data/coco-val2017-dev
out=test-output/tiling-figures
mkdir -p "$out"
[ -f "$out/val2x/instances.json" ] || /usr/bin/python3 scripts/enlarge-coco.py "$val/images" "$val/instances_val2017_dev.json" 2 "$out/val2x"
dotnet build src/Lookout.Cli -c Release -v q -nologo >/dev/null
lookout="dotnet src/Lookout.Cli/bin/Release/net10.0/lookout.dll"

run() { # set tile round images json
  $lookout eval --images "$3" --coco-json "$4" --tile "$2" --json -o "$out/$1-$2-$5.json" --no-progress >/dev/null
}
for r in $(seq 1 "$rounds"); do
  for t in off auto; do run given $t "$val/images" "$val/instances_val2017_dev.json" "$r"; done
  for t in off auto; do run enlarged $t "$out/val2x/images" "$out/val2x/instances.json" "$r"; done
done

/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
print("| set | tile | AP | AP50 | AP_small | AP_medium | AP_large | ms/image (median) | time vs off (median of rounds) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for s, label in (("given", "as given (≤ 640 px)"), ("enlarged", "enlarged 2× (≤ 1280 px)")):
    runs = {t: [json.load(open(f"{out}/{s}-{t}-{r}.json")) for r in range(1, rounds + 1)] for t in ("off", "auto")}
    ratios = [a["ms_per_image"] / o["ms_per_image"] for o, a in zip(runs["off"], runs["auto"])]
    for t in ("off", "auto"):
        st = runs[t][0]["stats"]
        ms = statistics.median(r["ms_per_image"] for r in runs[t])
        ratio = "1×" if t == "off" else f"{statistics.median(ratios):.2f}× (rounds {min(ratios):.2f}–{max(ratios):.2f})"
        print(f"| {label} | {t} | {st['ap']:.3f} | {st['ap50']:.3f} | {st['ap_small']:.3f} | {st['ap_medium']:.3f} | {st['ap_large']:.3f} | {ms:.1f} | {ratio} |")
PY
