# bench/corpus_server.sh — sourced by the crawl benchmarks: copies the fixture sites into $work/www,
# serves them on loopback with the fixture server (its pid in server_pid, its port in port), and
# writes the bench corpus (bench/crawl_corpus.py) to $work/expected.tsv. The caller sets `work` and
# kills $server_pid when it ends.
cp -r tests/fixtures/sites "$work/www"
build/tests/cjcrawl-testserver --root "$work/www" > "$work/server.out" &
server_pid=$!
for _ in $(seq 50); do grep -q PORT= "$work/server.out" && break; sleep 0.1; done
port=$(sed -n 's/^PORT=//p' "$work/server.out")
python3 bench/crawl_corpus.py "$work/www" "$port" > "$work/expected.tsv"
resolver="--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
# The corpus lives on loopback, which the egress guard keeps pages off unless opened.
allow="--allow-network=127.0.0.1"
