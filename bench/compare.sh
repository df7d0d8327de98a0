#!/usr/bin/env bash
# Two cjcrawl builds side by side on the crawl benchmark's default c=2 run (bench/crawl.sh's 100
# local sites), alternating A, B, A, B... so both meet the same machine noise; prints each run and
# the medians of sites/min and of cjcrawl's CPU as a share of Chrome's. One-line use:
#   bench/compare.sh OLD_CJCRAWL [NEW_CJCRAWL] [ROUNDS]   (default: build/crawler/cjcrawl, 3 rounds;
#   about 4 minutes a round)
# COMPARE_A_EXTRA / COMPARE_B_EXTRA add flags to one side's crawls (bench/egress.sh: the same binary
# with and without the egress guard).
# Build the older one in a worktree, e.g.:
#   git worktree add /tmp/old REV && cmake -S /tmp/old -B /tmp/old/build -G Ninja \
#     -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build /tmp/old/build --target cjcrawl
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: bench/compare.sh OLD_CJCRAWL [NEW_CJCRAWL] [ROUNDS]}
new=${2:-$PWD/build/crawler/cjcrawl}
rounds=${3:-3}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq "$rounds"); do
  for side in A B; do
    binary=$old; extra=${COMPARE_A_EXTRA:-}
    [ "$side" = B ] && binary=$new && extra=${COMPARE_B_EXTRA:-}
    line=$(CJCRAWL_BIN=$binary CRAWL_BENCH_EXTRA=$extra CRAWL_BENCH_RUNS=default-c2 bench/crawl.sh | grep '^default-c2:')
    echo "$side round $round: $line"
    echo "$side $line" >> "$log"
  done
done
python3 - "$log" "$old" "$new" <<'PY'
import re, statistics, sys
runs = {"A": [], "B": []}
for line in open(sys.argv[1]):
    side, rest = line.split(" ", 1)
    rate = float(re.search(r"= ([0-9.]+) sites/min", rest).group(1))
    share = float(re.search(r"\(([0-9.]+)% of Chrome's\)", rest).group(1))
    recall = re.search(r"recall (\d+/\d+), false positives (\d+/\d+)", rest).groups()
    runs[side].append((rate, share, recall))
for side, name in (("A", sys.argv[2]), ("B", sys.argv[3])):
    rates = [r for r, _, _ in runs[side]]
    shares = [s for _, s, _ in runs[side]]
    print(f"{side} {name}: sites/min median {statistics.median(rates):.1f} (runs {', '.join(f'{r:.1f}' for r in rates)}); "
          f"cjcrawl/Chrome CPU median {statistics.median(shares):.2f}% (runs {', '.join(f'{s:.2f}' for s in shares)}); "
          f"recall/FP {', '.join('/'.join(x) for _, _, x in runs[side])}")
a_rate = statistics.median(r for r, _, _ in runs["A"])
b_rate = statistics.median(r for r, _, _ in runs["B"])
a_share = statistics.median(s for _, s, _ in runs["A"])
b_share = statistics.median(s for _, s, _ in runs["B"])
print(f"B/A: sites/min {b_rate / a_rate:.3f}, CPU share {b_share / a_share:.3f}")
PY
