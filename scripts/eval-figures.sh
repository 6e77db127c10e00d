#!/usr/bin/env bash
# Regenerates the evaluation figures of README.md and docs/evaluation.md: one `lookout eval --report` comparing the
# models that run from ../shared (YOLOX-Nano, both Yolo-Fastest, Ultralytics YOLOv8n fp32 and dynamic INT8 by path) on the COCO val2017
# dev set, then copies YOLOX-Nano's F1 curve and confusion matrix and the comparison chart into docs/images/.
# The whole report stays in artifacts/eval-report/ (open its index.html); the comparison table is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared"
data="$shared/data/coco-val2017-dev"
yolov8n="$shared/models/ultralytics/yolov8n_fp32.onnx"
yolov8n_int8="$shared/models/ultralytics/yolov8n_dynamic_int8.onnx"
for needed in "$data/images" "$data/instances_val2017_dev.json" "$shared/models/yolox_nano.onnx" "$shared/models/darknet" "$yolov8n" "$yolov8n_int8"; do
  [ -e "$needed" ] || { echo "missing: $needed (the shared assets, see ../shared/ASSETS.md)" >&2; exit 1; }
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export LOOKOUT_ASSET_DIRS="$shared/models:$shared/models/darknet"
dotnet build src/Lookout.Cli -c Release -nologo -v quiet
report="$root/artifacts/eval-report"
rm -rf "$report"
dotnet src/Lookout.Cli/bin/Release/net10.0/lookout.dll eval --offline --no-progress \
  --model yolox-nano --model yolo-fastest-1.1 --model yolo-fastest-1.1-xl --model "$yolov8n" --model "$yolov8n_int8" \
  --images "$data/images" --coco-json "$data/instances_val2017_dev.json" --report "$report"

mkdir -p docs/images
cp "$report/yolox-nano/f1_curve.png" docs/images/eval-yolox-nano-f1.png
cp "$report/yolox-nano/confusion_matrix.png" docs/images/eval-yolox-nano-confusion.png
cp "$report/comparison_pr_curve.png" docs/images/eval-comparison-pr.png
for f in docs/images/eval-*.png; do
  size=$(stat -c %s "$f")
  [ "$size" -lt 300000 ] || { echo "$f is $size bytes: over the 300 KB a README image may take" >&2; exit 1; }
  echo "$f: $size bytes"
done
