#!/usr/bin/env bash
# Installs dependencies, builds everything and runs the whole test suite through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --preset release -j"$(nproc)" "$@"
