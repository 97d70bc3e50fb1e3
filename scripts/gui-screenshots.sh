#!/usr/bin/env bash
# Regenerates docs/screenshot-*.png: the real zfvis window under Xvfb (1280 x 800 screen, so the
# window is 1280 x 800), one picture per view, with the default model (built-in caffe-alexnet,
# untrained; the evolution view: the shipped zf-small run) and the chelsea sample. With
# ImageMagick's `convert` the PNGs are quantised (160 colours, fewer if needed) so each stays under
# 300 KB; without it they are copied as they are. (docs/screenshot-train.png, a run in progress,
# was taken by hand: Start in the Train tab under Xvfb, then `import -window root`.)
# Usage: scripts/gui-screenshots.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
gui=$build/app/zfvis
[[ -x $gui ]] || { echo "gui-screenshots: no $gui (configure with -DZFVIS_BUILD_GUI=ON)" >&2; exit 1; }
mkdir -p "$root/docs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

shot() {
  local name=$1
  shift
  xvfb-run -a -s "-screen 0 1280x800x24" "$gui" "$@" --screenshot "$tmp/$name.png" 2>/dev/null
  if command -v convert >/dev/null; then
    # Fewer colours until the file is under 300 KB.
    for colours in 160 128 96 64; do
      convert "$tmp/$name.png" -colors $colours "PNG8:$root/docs/screenshot-$name.png"
      (($(stat -c %s "$root/docs/screenshot-$name.png") < 300000)) && break
    done
  else
    cp "$tmp/$name.png" "$root/docs/screenshot-$name.png"
  fi
  echo "docs/screenshot-$name.png: $(stat -c %s "$root/docs/screenshot-$name.png") bytes"
}

shot activations --view activations
shot filters --view filters
shot projection --view projection --layer conv5
shot compare --view compare
shot occlusion --view occlusion
shot evolution --view evolution --model zf-small
