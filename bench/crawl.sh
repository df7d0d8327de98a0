#!/usr/bin/env bash
# Crawl throughput for BENCHMARKS.md (issue 5): 100 local sites (bench/crawl_corpus.py: 80 ordinary,
# 5 benign sockets, 5 compute-heavy benign, 10 miners) served on loopback by the fixture server,
# crawled by
#   default c=1 and c=2  cjcrawl as a user runs it (early decisions, late-starter watch, interaction,
#                        one Chrome per slot recycled every 50 sites, a fresh context per site,
#                        scripts seen on an earlier site not read again)
#   no script cache c=2  the default with --script-cache 0: what the scan cache saves cjcrawl
#                        (the corpus's ordinary pages share six library scripts)
#   fresh-browser c=1    the default, but a fresh Chrome per site (--recycle-after 1): what reusing
#                        browsers saves
#   oversubscribed c=4   twice as many slots as this machine's 2 cores: do benign pages start to read
#                        as miners once run-queue wait counts as demand? (false positives)
#   baseline c=1         the original method: 10 samples × 1 s per site, no early stop, no interaction
#                        or late watch, no scan cache, one fresh browser per site
# Reports sites/min, median and p90 time to verdict (clean and mining sites apart), recall on the 10
# miners, samples per clean site, cjcrawl's CPU as a share of Chrome's, and cjcrawl's RSS at sites
# 30 and 100. One-line use: bench/crawl.sh   (after scripts/build.sh; about 30 minutes)
# CJCRAWL_BIN picks another binary (bench/compare.sh runs two side by side); CRAWL_BENCH_RUNS picks
# some of the runs by name (e.g. "default-c2"); CRAWL_BENCH_EXTRA adds flags to every crawl
# (bench/egress.sh: --unsafe-no-egress-guard).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CJCRAWL_BIN:-$PWD/build/crawler/cjcrawl}
runs=${CRAWL_BENCH_RUNS:-default-c1 default-c2 no-script-cache-c2 fresh-browser-c1 oversubscribed-c4 baseline-c1}
work=$(mktemp -d)
cleanup() { [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. bench/corpus_server.sh
cut -f1 "$work/expected.tsv" > "$work/list.txt"

run() {  # name, extra args...
  local name=$1; shift
  [[ " $runs " == *" $name "* ]] || return 0
  local start end
  start=$(date +%s.%N)
  "$bin" crawl "$work/list.txt" --db "$work/$name.db" --out "$work/$name.jsonl" --quiet "$resolver" "$allow" ${CRAWL_BENCH_EXTRA:-} "$@" \
    2> "$work/$name.err" &
  local pid=$!
  # cjcrawl's RSS against the number of sites done, every half second.
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && echo "$(wc -l 2>/dev/null < "$work/$name.jsonl" || echo 0) $rss" >> "$work/$name.rss"
    sleep 0.5
  done
  wait "$pid"
  end=$(date +%s.%N)
  python3 - "$work" "$name" "$start" "$end" <<'PY'
import json, statistics, sys
work, name, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
expected = {}
for i, line in enumerate(open(f"{work}/expected.tsv"), 1):
    url, verdict = line.rstrip("\n").split("\t")
    expected[i] = verdict
lines = [json.loads(l) for l in open(f"{work}/{name}.jsonl")]
def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0
miners = [l for l in lines if expected[l["input_line"]] == "cryptojacking"]
clean = [l for l in lines if expected[l["input_line"]] != "cryptojacking"]
recall = sum(l["verdict"] == "cryptojacking" for l in miners)
false_pos = sum(l["verdict"] == "cryptojacking" for l in clean)
wrong = sum(l["verdict"] != expected[l["input_line"]] for l in lines)
samples_clean = statistics.mean(len(l["cpu_samples"]) for l in clean if l["verdict"] == "clean")
rss = [tuple(map(int, r.split())) for r in open(f"{work}/{name}.rss")]
def rss_at(done):
    # The first sample once `done` sites were written; the last sample if the crawl ended first.
    at = [kb for n, kb in rss if n >= done] or [rss[-1][1]]
    return at[0] // 1024
resources = [l for l in open(f"{work}/{name}.err") if "resources:" in l]
browsers = [l.strip() for l in open(f"{work}/{name}.err") if "browsers:" in l]
minutes = (end - start) / 60
print(f"{name}: {len(lines)} sites in {end - start:.0f} s = {len(lines) / minutes:.1f} sites/min; "
      f"time to verdict clean median {statistics.median(l['elapsed_ms'] for l in clean) / 1000:.1f} s "
      f"p90 {pct([l['elapsed_ms'] for l in clean], 0.9) / 1000:.1f} s, mining median "
      f"{statistics.median(l['elapsed_ms'] for l in miners) / 1000:.1f} s p90 {pct([l['elapsed_ms'] for l in miners], 0.9) / 1000:.1f} s; "
      f"recall {recall}/{len(miners)}, false positives {false_pos}/{len(clean)}, verdicts off the corpus's {wrong}; "
      f"samples per clean site {samples_clean:.1f}; RSS at site 30 {rss_at(30)} MB, at the end {rss_at(100)} MB, "
      f"peak {max(kb for _, kb in rss) // 1024} MB; {resources[0].strip() if resources else ''}; "
      f"{browsers[0] if browsers else ''}")
PY
}
run default-c1 --concurrency 1
run default-c2 --concurrency 2
run no-script-cache-c2 --concurrency 2 --script-cache 0
run fresh-browser-c1 --concurrency 1 --recycle-after 1
run oversubscribed-c4 --concurrency 4
run baseline-c1 --concurrency 1 --recycle-after 1 --no-early-stop --sample-period 1000 --window 10 --no-interaction \
  --no-late-watch --script-cache 0
