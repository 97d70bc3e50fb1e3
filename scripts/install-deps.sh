#!/usr/bin/env bash
# Installs zfvis's build and test dependencies from Debian 12 packages. Idempotent: prints nothing
# and changes nothing when everything is already installed. Uses sudo when not run as root.
#   --fuzz   also the clang toolchain for the libFuzzer targets (tests/fuzz)
#   --peers  also what the benchmark peers need: PyTorch with OpenBLAS (docs/PERFORMANCE.md)
#   --fixtures  also what scripts/make_*_fixtures.py and tests/fixtures/scripts need (PyTorch,
#               ONNX, h5py, NumPy)
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libopencv-dev
  qt6-base-dev libgl-dev fonts-dejavu-core
  libgtest-dev libgmock-dev libbenchmark-dev
  libpng-dev zlib1g-dev nlohmann-json3-dev
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  libhdf5-dev libsqlite3-dev
  libcurl4-openssl-dev libssl-dev
  xvfb xauth
  dataset-fashion-mnist
)
for arg in "$@"; do
  case "$arg" in
    --fuzz) PACKAGES+=(clang libclang-rt-14-dev) ;;
    --peers) PACKAGES+=(python3-torch libopenblas0-pthread) ;;
    --fixtures) PACKAGES+=(python3-torch python3-onnx python3-h5py python3-numpy) ;;
    *) echo "install-deps: unknown option $arg (expected --fuzz, --peers, --fixtures)" >&2; exit 2 ;;
  esac
done

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
