#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. all CTest tests (units, the CDP client against a fake server, real sandboxed Chromium);
#   2. the unit tests again, built with AddressSanitizer + UBSan (coroutine lifetimes on g++ 12);
#   3. every fuzz target for a bounded time (scripts/fuzz.sh, clang 14 + libFuzzer; issue 16).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure --timeout 600)

echo "== unit tests under ASan + UBSan"
if [ ! -f build-asan/build.ninja ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCJCRAWL_SANITIZE=ON \
    -DCJCRAWL_BROWSER_TESTS=OFF -DCJCRAWL_WERROR=ON
fi
cmake --build build-asan -j "$(nproc)" --target cjcrawl_unit_tests
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build-asan/tests/cjcrawl_unit_tests

# 45 s per target, two at a time: about 4 minutes of fuzzing, plus the build-fuzz build (BENCHMARKS.md).
echo "== fuzz targets (libFuzzer, ASan + UBSan)"
scripts/fuzz.sh 45
