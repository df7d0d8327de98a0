#!/usr/bin/env bash
# bench/merge.sh — `cjcrawl merge` of a sharded crawl's files (issue 15, BENCHMARKS.md "merge").
#
#   bench/merge.sh [VISITS...]        (default 1000000; e.g. `bench/merge.sh 100000 1000000`)
#
# For each VISITS: writes 3 shard files with build/bench/cjcrawl_merge_data (the real store, one
# record_visit transaction per site, built in /dev/shm and moved) into a folder under /var/tmp (on
# disk), then times `cjcrawl merge OUT shard-0.db shard-1.db shard-2.db` with /usr/bin/time -v
# (elapsed, peak RSS), then the same merge again (a no-op: OUT unchanged), then deletes the folder.
# Prints one table row per VISITS. The build, the generation and each merge run under
# `flock /tmp/cjcrawl-build.lock`, so they do not share the machine's 2 cores with the browser tests.
# Needs free space on /var/tmp of 3 × the input (inputs + OUT + the re-merge's copy of OUT).
set -euo pipefail
cd "$(dirname "$0")/.."

LOCK=/tmp/cjcrawl-build.lock
SHARDS=3
BYTES_PER_VISIT=18500  # measured: a 6.2 KB evidence JSON stored twice (visit, crawl line), on 4 KB pages
sizes=("${@:-1000000}")

flock "$LOCK" cmake --build build --target cjcrawl cjcrawl_merge_data >/dev/null

dirs=()
cleanup() { for d in "${dirs[@]}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT

seconds() {  # "h:mm:ss" or "m:ss.cc" → seconds
  awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }' <<<"$1"
}
field() { sed -n "s/^\s*$1: //p" "$2"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

rows=()
for visits in "${sizes[@]}"; do
  expected=$((visits * BYTES_PER_VISIT))
  avail=$(df --output=avail -B1 /var/tmp | tail -n 1)
  if ((avail < 3 * expected)); then
    echo "merge.sh: $visits visits need about $(mib $((3 * expected))) MiB free on /var/tmp; $(mib "$avail") MiB are" >&2
    exit 1
  fi
  shm=$(df --output=avail -B1 /dev/shm | tail -n 1)
  if ((shm < 2 * expected / SHARDS)); then
    echo "merge.sh: one shard needs about $(mib $((expected / SHARDS))) MiB in /dev/shm; $(mib "$shm") MiB free" >&2
    exit 1
  fi
  dir=$(mktemp -d /var/tmp/cjcrawl-merge.XXXXXX)
  dirs+=("$dir")
  echo "== $visits visits in $dir (df: $(mib "$avail") MiB free)"
  flock "$LOCK" /usr/bin/time -f "generated in %e s" build/bench/cjcrawl_merge_data "$dir" --visits "$visits" \
    --shards "$SHARDS"
  inputs=()
  for ((i = 0; i < SHARDS; i++)); do inputs+=("$dir/shard-$i.db"); done
  input_bytes=$(du -cb "${inputs[@]}" | tail -n 1 | cut -f1)

  flock "$LOCK" /usr/bin/time -v -o "$dir/merge.time" build/crawler/cjcrawl merge "$dir/out.db" "${inputs[@]}" \
    2>"$dir/merge.log"
  grep -v "is recorded again in" "$dir/merge.log" || true
  elapsed=$(seconds "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$dir/merge.time")")
  rss_kb=$(field 'Maximum resident set size (kbytes)' "$dir/merge.time")
  cpu="$(field 'User time (seconds)' "$dir/merge.time") user + $(field 'System time (seconds)' "$dir/merge.time") sys"
  out_bytes=$(stat -c %s "$dir/out.db")
  echo "merge: $elapsed s elapsed ($cpu), peak RSS $((rss_kb / 1024)) MiB, OUT $(mib "$out_bytes") MiB"

  before=$(stat -c '%s %Y' "$dir/out.db")
  flock "$LOCK" /usr/bin/time -v -o "$dir/again.time" build/crawler/cjcrawl merge "$dir/out.db" "${inputs[@]}" \
    2>"$dir/again.log"
  grep -q "nothing new" "$dir/again.log" || { echo "merge.sh: the re-merge was not a no-op" >&2; tail -n 3 "$dir/again.log" >&2; }
  [[ "$(stat -c '%s %Y' "$dir/out.db")" == "$before" ]] || echo "merge.sh: the re-merge changed OUT" >&2
  again=$(seconds "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$dir/again.time")")
  again_rss_kb=$(field 'Maximum resident set size (kbytes)' "$dir/again.time")
  echo "re-merge (no-op): $again s elapsed, peak RSS $((again_rss_kb / 1024)) MiB"

  rows+=("| $visits | $(mib "$input_bytes") | $elapsed | $((rss_kb / 1024)) | $(mib "$out_bytes") | $again |")
  rm -rf -- "$dir"
done

echo
echo "| visits | input MiB (3 files) | merge s | peak RSS MiB | output MiB | no-op re-merge s |"
echo "|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
