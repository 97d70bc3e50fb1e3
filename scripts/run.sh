#!/usr/bin/env bash
# The main job: install dependencies, build, and open the zfvis window: the trained BVLC AlexNet
# when it is in the Model Zoo cache (`zfvis-cli fetch bvlc-alexnet`), else the start page, which
# offers to fetch it (--offline: the shipped zf-small trained on Fashion-MNIST instead). Without a
# display, run a command-line demo that writes pictures to out/demo/ instead, on the cached
# trained AlexNet when there is one, else on the built-in caffe-alexnet (untrained). Extra
# arguments go to the GUI (e.g. --model zfnet-paper, --offline).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

image=resources/images/chelsea.png
if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
  exec build/app/zfvis "$@"
fi

echo "No display (DISPLAY is not set): running the command-line demo instead." >&2
out=out/demo
mkdir -p "$out"
cli=build/app/zfvis-cli
# The trained AlexNet when it was fetched (its layers are conv_1 .. conv_5), else the built-in.
model=caffe-alexnet conv1=conv1 conv5=conv5 note="the weights are untrained built-ins: see the README for real weights"
if "$cli" layers --model zoo:bvlc-alexnet >/dev/null 2>&1; then
  model=zoo:bvlc-alexnet note="trained BVLC AlexNet from the Model Zoo cache"
  conv1=$("$cli" layers --model "$model" | awk '$3 == "Conv" && !f {print $2; f = 1}')
  conv5=$("$cli" layers --model "$model" | awk '$3 == "Conv" {c = $2} END {print c}')
fi
set -x
"$cli" summary --model "$model" | tail -n 8
"$cli" predict --model "$model" --image "$image" --top 5
"$cli" activations --model "$model" --image "$image" --layer "$conv1" --png "$out/activations_conv1.png"
"$cli" activations --model "$model" --image "$image" --layer "$conv5" --png "$out/activations_conv5.png"
"$cli" filters --model "$model" --layer "$conv1" --png "$out/filters_conv1.png"
"$cli" deconv --model "$model" --image "$image" --layer "$conv5" --top 9 --png "$out/deconv_conv5_top9.png"
"$cli" occlusion --model "$model" --image "$image" --patch 50 --stride 16 --png "$out/occlusion.png"
set +x
echo "Pictures written to $out/ ($note)."
