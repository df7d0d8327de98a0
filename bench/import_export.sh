#!/usr/bin/env bash
# Import and export timings for BENCHMARKS.md (issue 4 targets):
#   import of the 5,837-line CoinBlockerLists domain list into a fresh database: < 100 ms
#   export of 100,000 entries in each format: < 1 s
# One-line use: bench/import_export.sh  (after scripts/build.sh). Prints medians of 5 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/crawler/cjcrawl
lists=tests/fixtures/blocklists
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>&1; end=$(date +%s%N); echo $(( (end - start) / 1000000 )); }

for i in 1 2 3 4 5; do rm -f "$work/i.db"*; ms "$bin" import "$lists/coinblocker-list.txt" --db "$work/i.db"; done | median |
  xargs printf 'import coinblocker-list.txt (5,837 lines, fresh db): %s ms median\n'
for i in 1 2 3 4 5; do ms "$bin" import "$lists/coinblocker-list.txt" --db "$work/i.db"; done | median |
  xargs printf 'import coinblocker-list.txt again (unchanged): %s ms median\n'

# 100,000 entries: generated domains (one feed) plus the real lists.
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "miner%06d.pool%d.example\n", i, i % 97 }' > "$work/100k.txt"
"$bin" import "$work/100k.txt" --db "$work/e.db" >/dev/null
for format in hosts domains adblock rpz csv json jsonl stix; do
  for i in 1 2 3 4 5; do SOURCE_DATE_EPOCH=1764115200 ms "$bin" export --format "$format" --db "$work/e.db" -o "$work/out"; done |
    median | xargs printf "export 100,000 entries as %-7s %s ms median\n" "$format"
done
