#!/usr/bin/env bash
# The main job: install dependencies, build, and open the zfvis window on the built-in
# caffe-alexnet with a bundled photo. Without a display, run a command-line demo that writes
# pictures to out/demo/ instead. Extra arguments go to the GUI (e.g. --model zfnet-paper).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

image=resources/images/chelsea.png
if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
  exec build/app/zfvis --model caffe-alexnet --image "$image" "$@"
fi

echo "No display (DISPLAY is not set): running the command-line demo instead." >&2
out=out/demo
mkdir -p "$out"
cli=build/app/zfvis-cli
set -x
"$cli" summary --model caffe-alexnet | tail -n 8
"$cli" predict --model caffe-alexnet --image "$image" --top 5
"$cli" activations --model caffe-alexnet --image "$image" --layer conv1 --png "$out/activations_conv1.png"
"$cli" activations --model caffe-alexnet --image "$image" --layer conv5 --png "$out/activations_conv5.png"
"$cli" filters --model caffe-alexnet --layer conv1 --png "$out/filters_conv1.png"
"$cli" deconv --model caffe-alexnet --image "$image" --layer conv5 --top 9 --png "$out/deconv_conv5_top9.png"
"$cli" occlusion --model caffe-alexnet --image "$image" --patch 50 --stride 16 --png "$out/occlusion.png"
set +x
echo "Pictures written to $out/ (the weights are untrained built-ins: see the README for real weights)."
