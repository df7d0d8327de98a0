#!/usr/bin/env bash
# The main job on the bundled demo sites: installs what is missing, builds, serves seeds/demo on
# loopback (with a fake mining pool), checks each site in sandboxed headless Chromium, and prints the
# blacklist that the checks wrote to demo.db. Nothing leaves the machine: every host name is mapped
# to 127.0.0.1 or to "not found".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh

db="${CJCRAWL_DEMO_DB:-demo.db}"
rm -f "$db" "$db-wal" "$db-shm"
out=$(mktemp)
build/tests/cjcrawl-testserver --root seeds/demo >"$out" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q '^PORT=' "$out" && break; sleep 0.1; done
port=$(sed -n 's/^PORT=//p' "$out")
[ -n "$port" ] || { echo "demo: the demo server did not start" >&2; exit 1; }

rules="--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
for site in blog.demo.test/clean-blog.html news.demo.test/news-with-chat.html games.demo.test/mining-worker.html; do
  set +e
  build/crawler/cjcrawl check "http://${site%%/*}:$port/${site#*/}" --db "$db" "$rules"
  code=$?
  set -e
  echo "  exit code $code"
  echo
  [ $code -eq 0 ] || [ $code -eq 3 ] || exit $code
done
echo "Blacklist written to $db:"
sqlite3 -header -column "$db" "SELECT kind, value, hits, confidence FROM blacklist ORDER BY kind, value"
