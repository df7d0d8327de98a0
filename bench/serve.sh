#!/usr/bin/env bash
# Feed-server throughput for BENCHMARKS.md (issue 4 targets), measured with wrk beside nginx:
#   >= 20,000 requests/s for a 304 revalidation of /feed/hosts
#   >= 2,000 requests/s for the full 100,000-entry hosts feed, gzip
# nginx serves the same bytes as static files (hosts and a pre-compressed hosts.gz, gzip_static),
# one worker process, as cjcrawl serve uses one io thread. Both run on loopback on this machine,
# with wrk on the same 2 cores, so read the ratio, not the absolute numbers.
# One-line use: bench/serve.sh   (after scripts/build.sh; installs wrk and nginx from Debian if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/crawler/cjcrawl
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { [ -x "/usr/sbin/$tool" ] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
cleanup() {
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
runs=${RUNS:-3}

# 100,000 entries, as in the export benchmark.
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "miner%06d.pool%d.example\n", i, i % 97 }' > "$work/100k.txt"
"$bin" import "$work/100k.txt" --db "$work/feed.db" >/dev/null 2>&1

# cjcrawl serve on a free port.
"$bin" serve --db "$work/feed.db" --listen 127.0.0.1:0 > "$work/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do grep -q http "$work/serve.out" && break; sleep 0.1; done
serve=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.out")
curl -s "$serve/feed/hosts" -o "$work/www/hosts" --create-dirs
etag=$(curl -sI "$serve/feed/hosts" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
gzip -6 -k -n "$work/www/hosts"

# nginx, the same bytes as static files, one worker.
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
user root;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  types { text/plain hosts; }
  gzip_static on;
  etag on;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:18089; root $work/www; location / { } }
}
CONF
"$nginx_bin" -c "$work/nginx.conf" -p "$work/nginx"
static=http://127.0.0.1:18089
sleep 0.5
static_etag=$(curl -sI "$static/hosts" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')

rps() { wrk -t2 -c"$connections" -d"$duration" "$@" | awk '/Requests\/sec/ {print int($2)}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {  # name, cjcrawl args..., --, nginx args...
  local name=$1; shift
  local ours=() theirs=() a=() b=() seen=0
  for arg in "$@"; do if [ "$arg" = "--" ]; then seen=1; elif [ $seen = 0 ]; then a+=("$arg"); else b+=("$arg"); fi; done
  for _ in $(seq "$runs"); do
    ours+=("$(rps "${a[@]}")")
    theirs+=("$(rps "${b[@]}")")
  done
  local m_ours m_theirs
  m_ours=$(printf '%s\n' "${ours[@]}" | median)
  m_theirs=$(printf '%s\n' "${theirs[@]}" | median)
  printf '%-34s cjcrawl %7s req/s   nginx %7s req/s   ratio %.2f   (runs: %s | %s)\n' "$name" "$m_ours" "$m_theirs" \
    "$(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN {print a / b}')" "${ours[*]}" "${theirs[*]}"
}
size=$(stat -c %s "$work/www/hosts"); gz=$(stat -c %s "$work/www/hosts.gz")
echo "feed: 100,000 entries, hosts $size bytes, gzip $gz bytes; wrk -t2 -c$connections -d$duration, median of $runs"
measure "304 revalidation (If-None-Match)" -H "If-None-Match: $etag" "$serve/feed/hosts" -- \
  -H "If-None-Match: $static_etag" "$static/hosts"
measure "full hosts feed, gzip" -H "Accept-Encoding: gzip" "$serve/feed/hosts" -- -H "Accept-Encoding: gzip" "$static/hosts"
measure "full hosts feed, identity" "$serve/feed/hosts" -- "$static/hosts"
