#!/usr/bin/env bash
# Configures and builds cjcrawl into build/ (incremental; ccache when present). Warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCJCRAWL_WERROR=ON
fi
cmake --build build -j "$jobs"
