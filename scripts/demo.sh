#!/usr/bin/env bash
# The main job on the bundled demo sites: installs what is missing, builds, serves seeds/demo on
# loopback (with a fake mining pool), checks the mining site on its own, crawls all demo sites in
# sandboxed headless Chromium, and prints the crawl, the blacklist written to demo.db, and the feed. Nothing leaves the machine: every host name is mapped
# to 127.0.0.1 or to "not found".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh cjcrawl cjcrawl-testserver  # only what the demo runs: the first result comes sooner

db="${CJCRAWL_DEMO_DB:-demo.db}"
rm -f "$db" "$db-wal" "$db-shm" "${db%.db}-crawl.jsonl" "${db%.db}-sites.txt"
out=$(mktemp)
build/tests/cjcrawl-testserver --root seeds/demo >"$out" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q '^PORT=' "$out" && break; sleep 0.1; done
port=$(sed -n 's/^PORT=//p' "$out")
[ -n "$port" ] || { echo "demo: the demo server did not start" >&2; exit 1; }

# The demo names resolve to the demo server's address only; that address is loopback, which pages may
# not reach unless it is opened (cjcrawl's egress guard), so the demo opens it for the server's port.
rules="--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND"
allow="--allow-network=127.0.0.1:$port"
# 1. One site, in detail: the single-site check.
set +e
build/crawler/cjcrawl check "http://games.demo.test:$port/mining-worker.html" --db "$db" "$rules" "$allow"
code=$?
set -e
echo "  exit code $code (3: cryptojacking)"
echo
[ $code -eq 0 ] || [ $code -eq 3 ] || exit $code

# 2. The batch crawl of a list: every demo site, one JSON line each, all recorded in the database.
list="${db%.db}-sites.txt"
{
  echo "# the bundled demo sites"
  for site in blog.demo.test/clean-blog.html news.demo.test/news-with-chat.html games.demo.test/mining-worker.html; do
    echo "http://${site%%/*}:$port/${site#*/}"
  done
} > "$list"
build/crawler/cjcrawl crawl "$list" --db "$db" --out "${db%.db}-crawl.jsonl" "$rules" "$allow"
echo
echo "Crawl results (every line is also in ${db%.db}-crawl.jsonl):"
sqlite3 -header -column "$db" "SELECT position AS line, status, verdict, input FROM crawl_sites ORDER BY position"
echo
echo "Blacklist written to $db:"
sqlite3 -header -column "$db" "SELECT kind, value, hits, confidence FROM blacklist ORDER BY kind, value"
echo
# 3. The feed: the infrastructure as a hosts file (cjcrawl serve --db $db publishes all formats).
echo "cjcrawl export --format hosts:"
build/crawler/cjcrawl export --format hosts --db "$db"
