#!/usr/bin/env bash
# Installs zfvis's build and test dependencies from Debian 12 packages. Idempotent: prints nothing
# and changes nothing when everything is already installed. Uses sudo when not run as root.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libdnnl-dev
  libopencv-dev
  qt6-base-dev libgl-dev fonts-dejavu-core
  libgtest-dev libgmock-dev libbenchmark-dev
  libpng-dev nlohmann-json3-dev
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  libhdf5-dev
  libcurl4-openssl-dev libssl-dev
  xvfb xauth
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
