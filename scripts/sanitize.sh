#!/usr/bin/env bash
# The sanitizer runs (`scripts/test.sh --sanitize`): the whole suite, GUI included, built with
# AddressSanitizer + UndefinedBehaviorSanitizer (leak detection on) in build-asan/, then the tests
# of zfvis's own threads built with ThreadSanitizer in build-tsan/: the GUI (job pool, window walk,
# soak), the engine, occlusion's workers and downloads. Any report fails the run. Arguments are
# passed to both ctest runs (e.g. -R Engine). ZFVIS_SANITIZE=asan or =tsan runs only one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
jobs=$(nproc)
which=${ZFVIS_SANITIZE:-all}

configure() {  # configure DIR FLAGS
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS=$2" \
    -DZFVIS_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
}

status=0
if [[ $which == all || $which == asan ]]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer: whole suite (build-asan/)"
  configure build-asan "-fsanitize=address,undefined -fno-omit-frame-pointer"
  cmake --build build-asan -- -j"$jobs"
  # halt_on_error (for UBSan too): a report ends the test with a failure; leaks in Qt's and fontconfig's
  # one-time allocations (not ours) are listed in scripts/sanitizers/lsan.supp.
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1"
  export LSAN_OPTIONS="suppressions=$root/scripts/sanitizers/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  ctest --test-dir build-asan -j"$jobs" --output-on-failure "$@" || status=1
  unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
fi
if [[ $which == all || $which == tsan ]]; then
  echo "== ThreadSanitizer: ui and engine tests (build-tsan/)"
  configure build-tsan "-fsanitize=thread -fno-omit-frame-pointer"
  # Only what these tests need (the GUI and its tests, the CLI they start, the engine, occlusion
  # and download tests), not the whole project a second time.
  ui_tests=$(sed -n 's/^zfvis_add_ui_test(\(test_ui_[a-z_]*\) .*/\1/p' tests/ui/CMakeLists.txt)
  # shellcheck disable=SC2086
  cmake --build build-tsan --target zfvis zfvis-cli test_ui_walk $ui_tests test_engine \
    test_occlusion test_zoo -- -j"$jobs"
  # Debian's Qt, oneDNN, OpenCV and libgomp are not built with ThreadSanitizer, so it cannot see
  # their locks: ignore_noninstrumented_modules drops the memory accesses their own code makes
  # through intercepted calls (memcpy, memset, new/delete inside Qt), and
  # scripts/sanitizers/tsan.supp lists the remaining hand-over points (each with its reason).
  # oneDNN and zfvis's OpenMP loops run on one thread here (ZFVIS_THREADS caps every engine
  # request, OMP_NUM_THREADS the rest), since OpenMP's barriers are invisible too; our own threads
  # (the GUI's job pool and settings writer, downloads, occlusion workers) are what is checked.
  export TSAN_OPTIONS="suppressions=$root/scripts/sanitizers/tsan.supp:halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1"
  export OMP_NUM_THREADS=1 ZFVIS_THREADS=1
  ctest --test-dir build-tsan -j"$jobs" --output-on-failure \
    -R '^(ui\.|Engine|Shapes/Engine|ChannelPeaks|LayerRangeRunner|Occlusion|Download)' "$@" || status=1
fi
exit $status
