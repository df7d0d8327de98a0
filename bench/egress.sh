#!/usr/bin/env bash
# The egress guard's cost (issue 17): the crawl benchmark's default c=2 run (bench/crawl.sh, 100 local
# sites) with the guard off (A: --unsafe-no-egress-guard, Chrome connects directly) and on (B: every
# connection through cjcrawl's SOCKS5 proxy), alternating A, B, A, B… so both meet the same machine
# noise; prints each run, the medians of sites/min and of cjcrawl's CPU as a share of Chrome's, and
# B/A. One-line use: bench/egress.sh [ROUNDS]   (default 2; about 8 minutes a round)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/crawler/cjcrawl
COMPARE_A_EXTRA=--unsafe-no-egress-guard COMPARE_B_EXTRA= exec bench/compare.sh "$bin" "$bin" "${1:-2}"
