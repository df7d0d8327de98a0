#!/usr/bin/env bash
# Configures and builds cjcrawl into build/ (incremental; ccache when present). Warnings are errors.
# With target names, builds only those (scripts/demo.sh: the binary and the demo server); without,
# everything, tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCJCRAWL_WERROR=ON
fi
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build build -j "$jobs" "${targets[@]}"
