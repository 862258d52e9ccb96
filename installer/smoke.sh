#!/usr/bin/env bash
# Smoke test of the frozen build: the console program on real slides, tiling with worker
# processes, the quick demo, one training step from the bundled ImageNet weights, then the windowed app offscreen on a real slide and on the
# demo's slide with its overlays and a model run through its child `pathscaat`.
#
#   installer/smoke.sh [APP_FOLDER]     (default installer/build/dist/PathSCAAT)
#
# Real slides come from ../shared/data (or PATHSCAAT_SHARED_DATA); absent ones are skipped
# with a message. PATHSCAAT_SMOKE_LIMIT_S bounds each app start (default 300 s).
set -euo pipefail
cd "$(dirname "$0")/.."
APP=$(cd "${1:-installer/build/dist/PathSCAAT}" && pwd)
DATA=${PATHSCAAT_SHARED_DATA:-../shared/data}
LIMIT=${PATHSCAAT_SMOKE_LIMIT_S:-300}
CLI=$APP/pathscaat
GUI=$APP/pathscaat-gui
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pathscaat-smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# A clean user: no settings, logs or recent files of whoever runs this.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data
export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1
unset PYTHONPATH PYTHONHOME
mkdir -p "$HOME"
t0=$(date +%s)

step() { echo "== smoke: $* ($(( $(date +%s) - t0 )) s)"; }
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
expect() {  # expect FILE TEXT WHAT: FILE must contain TEXT
  grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$3: no '$2' in the output"; }
}

SVS="$DATA/slides/CMU-1-Small-Region.svs"
NDPI="$DATA/slides/test3-DAPI-2-(387).ndpi"
step "pathscaat --version"
"$CLI" --version | tee "$WORK/version.txt"
expect "$WORK/version.txt" "pathscaat " "pathscaat --version"

for pair in "$SVS|aperio" "$NDPI|hamamatsu"; do
  slide=${pair%|*} vendor=${pair#*|}
  if [ ! -f "$slide" ]; then
    echo "smoke: skip info on $slide: absent (no ../shared/data here)"
    continue
  fi
  step "pathscaat info --json $(basename "$slide")"
  "$CLI" info --json "$slide" > "$WORK/info.json"
  expect "$WORK/info.json" "\"vendor\": \"$vendor\"" "info --json $(basename "$slide")"
  expect "$WORK/info.json" '"backend": "openslide"' "info --json $(basename "$slide")"
done

step "pathscaat demo --quick"
"$CLI" demo --quick --out "$WORK/demo" --progress none > "$WORK/demo.txt"
expect "$WORK/demo.txt" "pathscaat-gui" "demo --quick"
DEMO_SLIDE=$WORK/demo/synthetic-slide.tif
[ -f "$WORK/demo/inference/overlays.json" ] || fail "demo --quick wrote no overlays"

step "pathscaat weights check: the bundled ImageNet Lite0 weights"
"$CLI" weights check imagenet:efficientnet_lite0 --classes 3 | tee "$WORK/weights.txt"
expect "$WORK/weights.txt" "ok: imagenet:efficientnet_lite0 fits tf_efficientnet_lite0" \
  "weights check"
step "pathscaat train: one step from the bundled ImageNet Lite0 (the default start)"
"$CLI" train --data "$WORK/demo/patches" --out "$WORK/lite0" --epochs 1 --batch-size 4096 \
  --img-size 64 --objective erm --strip-every 0 --workers 0 --test-fraction 0 \
  --progress none > "$WORK/train.txt"
expect "$WORK/train.txt" "trained tf_efficientnet_lite0 (erm) for 1 epoch" "train from Lite0"
expect "$WORK/lite0/run_config.json" '"weights": "imagenet:efficientnet_lite0"' "train from Lite0"

TILE_SLIDE=$SVS
[ -f "$TILE_SLIDE" ] || TILE_SLIDE=$DEMO_SLIDE
step "pathscaat tiles --extract --workers 2 $(basename "$TILE_SLIDE") (worker processes)"
"$CLI" tiles "$TILE_SLIDE" --out "$WORK/tiles" --extract --workers 2 --progress none
n_tiles=$(find "$WORK/tiles" -name '*.png' | wc -l)
[ "$n_tiles" -gt 16 ] || fail "tiles --extract wrote $n_tiles patches (expected more than one batch)"
echo "smoke: $n_tiles patches"

if [ -f "$SVS" ]; then
  step "pathscaat-gui --smoke on $(basename "$SVS")"
  timeout $((LIMIT + 30)) "$GUI" "$SVS" --smoke "$LIMIT" | tee "$WORK/gui1.txt"
  expect "$WORK/gui1.txt" "pathscaat-gui smoke: ok" "app on the real slide"
  expect "$WORK/gui1.txt" "first frame" "app on the real slide"
else
  echo "smoke: skip the app on $SVS: absent"
fi

step "pathscaat-gui --smoke: demo slide, its overlays, a model run in the child"
timeout $((LIMIT + 30)) "$GUI" "$DEMO_SLIDE" --overlays "$WORK/demo/inference" \
  --smoke "$LIMIT" --smoke-model "$WORK/demo/models/scaat/last" --smoke-out "$WORK/run" \
  | tee "$WORK/gui2.txt"
expect "$WORK/gui2.txt" "pathscaat-gui smoke: ok" "app with overlays and a model run"
expect "$WORK/gui2.txt" "overlay layers" "app with overlays and a model run"
expect "$WORK/gui2.txt" 'model run by `pathscaat`' "app with overlays and a model run"
[ -f "$WORK/run/overlays.json" ] || fail "the app's model run wrote no overlays.json"

step "all passed"
