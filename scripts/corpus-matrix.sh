#!/usr/bin/env bash
# Prints the evaluation corpus confusion matrix: builds, then runs the corpus browser test, which
# checks every fixture of tests/fixtures/sites/corpus/expected.tsv in real Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
build/tests/cjcrawl_browser_tests "[corpus]"
