#!/usr/bin/env bash
# Recheck rate beside a crawl's on the same pages (issue 13; target: within 10%). The miners of
# bench/crawl_corpus.py's corpus, each under three query strings (30 pages, all found mining),
# served on loopback by the fixture server: per round, a fresh database, `cjcrawl crawl` of the list
# (c=2), then `cjcrawl recheck --older-than 0` of what it found (c=2, every page confirmed). Prints
# each run's sites/min and, over the rounds, the medians and the recheck/crawl ratio.
# One-line use: bench/recheck.sh [ROUNDS]   (default 2; about 1 minute a round)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CJCRAWL_BIN:-$PWD/build/crawler/cjcrawl}
rounds=${1:-2}
work=$(mktemp -d)
cleanup() { [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. bench/corpus_server.sh
awk -F'\t' '$2 == "cryptojacking" { for (i = 1; i <= 3; i++) print $1 (index($1, "?") ? "&" : "?") "r=" i }' \
  "$work/expected.tsv" > "$work/list.txt"
pages=$(wc -l < "$work/list.txt")

rate() {  # command...: prints sites/min of the run
  local start end
  start=$(date +%s.%N)
  "$@" --concurrency 2 --quiet --out /dev/null "$resolver" "$allow" 2>> "$work/runs.err"
  end=$(date +%s.%N)
  python3 -c "print(f'{$pages * 60 / ($end - $start):.1f}')"
}

crawl_rates=() recheck_rates=()
for round in $(seq "$rounds"); do
  db="$work/round$round.db"
  crawl_rates+=("$(rate "$bin" crawl "$work/list.txt" --db "$db")")
  found=$(sqlite3 "$db" "SELECT count(*) FROM blacklist WHERE kind = 'page'")
  recheck_rates+=("$(rate "$bin" recheck --older-than 0 --db "$db")")
  confirmed=$(sqlite3 "$db" "SELECT count(*) FROM entry_rechecks WHERE outcome = 'confirmed'")
  echo "round $round: crawl ${crawl_rates[-1]} sites/min ($found of $pages pages found mining), recheck ${recheck_rates[-1]} sites/min ($confirmed confirmed)"
done
python3 - "${crawl_rates[*]}" "${recheck_rates[*]}" <<'PY'
import statistics, sys
crawl = [float(x) for x in sys.argv[1].split()]
recheck = [float(x) for x in sys.argv[2].split()]
c, r = statistics.median(crawl), statistics.median(recheck)
print(f"median: crawl {c:.1f} sites/min, recheck {r:.1f} sites/min, recheck/crawl {r / c:.3f}")
PY
