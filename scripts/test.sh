#!/usr/bin/env bash
# Installs dependencies, builds everything and runs the whole test suite through CTest.
# `scripts/test.sh --sanitize [ctest args]` runs the sanitizer builds instead (scripts/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [[ ${1:-} == --sanitize ]]; then
  shift
  exec scripts/sanitize.sh "$@"
fi
scripts/build.sh
ctest --preset release -j"$(nproc)" "$@"
