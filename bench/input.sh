#!/usr/bin/env bash
# Memory of a million-site crawl list for BENCHMARKS.md (issue 5): cjcrawl's peak RSS while it reads
# a 1,000,000-row Tranco-style `rank,domain` CSV and sets up the crawl (`--limit 0`: everything is
# parsed and selected, nothing is visited), against a one-row list, in the same run. The difference
# divided by the rows is the memory a parsed site costs. Median of 3 runs each.
# One-line use: bench/input.sh   (after scripts/build.sh; about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CJCRAWL_BIN:-$PWD/build/crawler/cjcrawl}  # CJCRAWL_BIN: another build, to compare
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=${ROWS:-1000000}
# Domains shaped like a top list's: 6-16 letters, a few subdomains, a mix of TLDs.
python3 - "$work/big.csv" "$rows" <<'PY'
import random, sys
random.seed(7)
tlds = ["com", "net", "org", "de", "co.uk", "io", "ru", "com.br", "info", "jp"]
letters = "abcdefghijklmnopqrstuvwxyz"
with open(sys.argv[1], "w") as out:
    for rank in range(1, int(sys.argv[2]) + 1):
        name = "".join(random.choice(letters) for _ in range(random.randint(6, 16)))
        sub = "www." if rank % 7 == 0 else ""
        out.write(f"{rank},{sub}{name}{rank}.{random.choice(tlds)}\n")
PY
echo "1,example.com" > "$work/one.csv"
# cjcrawl's own peak RSS, from its summary line (getrusage RUSAGE_SELF; `time -f %M` would report the
# `chromium --version` child cjcrawl runs for its user agent). Median of 3.
peak() {  # list → peak RSS in MB
  for _ in 1 2 3; do
    rm -f "$work/c.db"*
    "$bin" crawl "$1" --limit 0 --db "$work/c.db" --out /dev/null --quiet 2>&1 >/dev/null |
      sed -n 's/.*cjcrawl peak RSS \([0-9]*\) MB.*/\1/p'
  done | sort -n | sed -n 2p
}
small=$(peak "$work/one.csv")
big=$(peak "$work/big.csv")
echo "cjcrawl peak RSS: 1-row list ${small} MB, ${rows}-row list ${big} MB;" \
  "$(( (big - small) * 1048576 / rows )) bytes per parsed site"
