#!/usr/bin/env bash
# Configures and builds zfvis in build/ (Release, Ninja). Used by run.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
if command -v ccache >/dev/null 2>&1; then extra+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake --preset release "${extra[@]}" >/dev/null
cmake --build --preset release -- -j"$(nproc)"
