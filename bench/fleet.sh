#!/usr/bin/env bash
# The bench corpus (bench/crawl_corpus.py: 100 local sites, 10 miners) crawled by one worker at the
# default settings, on SQLite and on a shared PostgreSQL (--crawl NAME), alternately ROUNDS times,
# for BENCHMARKS.md (issue 14): sites/min, cjcrawl's CPU as a share of Chrome's, recall, and the
# median evidence JSON of a visit (the size bench/queue_throughput.cpp uses). PostgreSQL is a
# throwaway cluster on a free loopback port, default durability, removed afterwards.
# One-line use: bench/fleet.sh [ROUNDS]   (after scripts/build.sh; about 4 minutes per round)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
bin=${CJCRAWL_BIN:-$PWD/build/crawler/cjcrawl}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d)
pgdir=$(mktemp -d /tmp/cjcrawl-pg-XXXXXX)
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody:nogroup "$pgdir"
  as_server=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
chmod 755 "$pgdir"
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  "${as_server[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop > /dev/null 2>&1 || true
  rm -rf "$work" "$pgdir"
}
trap cleanup EXIT

# The database: a password only in the environment.
export PGPASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$PGPASSWORD" > "$pgdir/pw"
[ "$(id -u)" -eq 0 ] && chown nobody "$pgdir/pw"
"${as_server[@]}" "$pgbin/initdb" -D "$pgdir/data" -U bench --pwfile="$pgdir/pw" --auth=scram-sha-256 \
  --no-locale -E UTF8 > /dev/null
rm -f "$pgdir/pw"
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_server[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
  -o "-p $pgport -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start > /dev/null

. bench/corpus_server.sh
cut -f1 "$work/expected.tsv" > "$work/list.txt"

report() {  # name, seconds
  python3 - "$work" "$1" "$2" <<'PY'
import json, re, statistics, sys
work, name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
expected = [l.rstrip("\n").split("\t")[1] for l in open(f"{work}/expected.tsv")]
lines = [json.loads(l) for l in open(f"{work}/{name}.jsonl")]
by_line = {l["input_line"]: l for l in lines}
miners = [i + 1 for i, v in enumerate(expected) if v == "cryptojacking"]
found = sum(1 for i in miners if by_line.get(i, {}).get("verdict") == "cryptojacking")
share = re.search(r"\(([\d.]+)% of Chrome's\)", open(f"{work}/{name}.err").read())
sizes = sorted(len(json.dumps(l, separators=(",", ":"))) for l in lines)
print(f"| {name} | {len(lines)} | {len(lines) * 60 / seconds:.1f} | {share.group(1) if share else '?'}% | "
      f"{found}/{len(miners)} | {statistics.median(sizes)} |")
PY
}

echo "| run | sites | sites/min | cjcrawl CPU / Chrome CPU | recall | median JSON line (bytes) |"
echo "|---|---:|---:|---:|---:|---:|"
for round in $(seq "$rounds"); do
  start=$(date +%s.%N)
  "$bin" crawl "$work/list.txt" --db "$work/sqlite-$round.db" --out "$work/sqlite-$round.jsonl" --quiet \
    --concurrency 1 "$resolver" "$allow" 2> "$work/sqlite-$round.err"
  report "sqlite-$round" "$(python3 -c "print($(date +%s.%N) - $start)")"
  PGPASSWORD=$PGPASSWORD "$pgbin/psql" -X -q -h 127.0.0.1 -p "$pgport" -U bench -d postgres \
    -c "CREATE DATABASE r$round" > /dev/null
  start=$(date +%s.%N)
  "$bin" crawl "$work/list.txt" --db "postgresql://bench@127.0.0.1:$pgport/r$round" --crawl "bench-$round" \
    --out "$work/postgresql-$round.jsonl" --quiet --concurrency 1 "$resolver" "$allow" 2> "$work/postgresql-$round.err"
  report "postgresql-$round" "$(python3 -c "print($(date +%s.%N) - $start)")"
done
