#!/usr/bin/env bash
# Video throughput of `lookout detect` with YOLOX-Nano at --vid-stride 1 (README "Videos", docs/architecture.md).
# Makes a 1280×720, 30 fps H.264 clip from ../shared/images (2 s per photo, 300 frames), then runs, alternately,
#   A: lookout detect clip.mp4 --jsonl -o …      (detection only)
#   B: lookout detect clip.mp4 --out DIR          (detection + annotated H.264 video + JSONL)
# ROUNDS times (default 3) and prints each run's frames/s and per-frame stages, then the medians and the median of
# the per-round B/A ratios (the machine's speed drifts; the ratio is what to compare). Usage: scripts/video-fps.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
command -v ffmpeg >/dev/null || { echo "needs ffmpeg: sudo apt-get install -y ffmpeg" >&2; exit 1; }
export LOOKOUT_ASSET_DIRS=${LOOKOUT_ASSET_DIRS:-$PWD/../shared/models:$PWD/../shared/images}

dotnet build src/Lookout.Cli -c Release -v quiet -nologo >/dev/null
lookout=(dotnet src/Lookout.Cli/bin/Release/net10.0/lookout.dll)

work=test-output/video-fps
mkdir -p "$work"
clip=$work/clip-720p.mp4
if [ ! -f "$clip" ]; then
  inputs=(); filter=""; i=0
  for photo in ../shared/images/*.jpg; do
    inputs+=(-loop 1 -framerate 30 -t 2 -i "$photo")
    filter+="[$i:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1[v$i];"
    i=$((i + 1))
  done
  for ((k = 0; k < i; k++)); do filter+="[v$k]"; done
  ffmpeg -v error -nostdin -y "${inputs[@]}" -filter_complex "${filter}concat=n=$i:v=1:a=0[out]" -map "[out]" \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$clip"
fi
echo "clip: $(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height,r_frame_rate,nb_frames -of csv=p=0 "$clip")"

# The summary line: "…: h264 1280×720 at 30 fps; 300 frames read, 300 processed (--vid-stride 1) in 21.3 s: 14.1 frames/s; ms per frame: read …"
run() {
  # The console wraps long lines: join them before picking the figures out.
  "${lookout[@]}" detect "$clip" --no-progress "$@" | tr '\n' ' ' | sed -E 's/ +/ /g' \
    | grep -ao '[0-9.]* frames/s; ms per frame: [^(]*[0-9]' | head -1 \
    | sed -E 's/([0-9.]+) frames\/s; ms per frame: (.*)/\1 fps | \2/; s/\. Annotated.*//'
}
a_fps=(); b_fps=(); ratios=()
for ((r = 1; r <= rounds; r++)); do
  a=$(run --jsonl -o "$work/a.jsonl"); echo "round $r A detect --jsonl : $a"
  b=$(run --out "$work/out"); echo "round $r B detect --out   : $b"
  fa=${a%% *}; fb=${b%% *}
  a_fps+=("$fa"); b_fps+=("$fb"); ratios+=("$(awk -v a="$fa" -v b="$fb" 'BEGIN { printf "%.3f", b / a }')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median A (detection only): $(median "${a_fps[@]}") frames/s"
echo "median B (with annotated video): $(median "${b_fps[@]}") frames/s"
echo "median per-round B/A: $(median "${ratios[@]}")"
echo "nproc $(nproc); $(date -u +%F)"
