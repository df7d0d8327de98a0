#!/usr/bin/env python3
"""What profiling hot code costs a profiled site (issue 12), for BENCHMARKS.md.

Checks each busy page with and without --no-profile, alternating (A = --no-profile, B = default), so
both meet the same machine noise, and prints per page the medians of: time to verdict (elapsed_ms),
cjcrawl's own CPU (user + sys, /usr/bin/time), the renderer's median CPU interval (what the CPU rule
saw: does V8's sampler inflate it?), and the verdict and confidence each way.

One-line use (after scripts/build.sh; about 6 minutes at 3 rounds):
    python3 bench/profile_cost.py [ROUNDS]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("CJCRAWL_BIN", os.path.join(ROOT, "build/crawler/cjcrawl"))
SERVER = os.path.join(ROOT, "build/tests/cjcrawl-testserver")
PAGES = [
    "corpus/worker-game.html",  # a game's physics step in a worker: not a hash
    "corpus/js-benchmark.html",  # sorting, ray casting, JSON: not a hash
    "busy-main.html",  # a busy loop on the main thread
    "corpus/wasm-image-filter.html",  # a Wasm convolution
    "corpus/wasm-checksum.html",  # a Wasm CRC-32: a hash, not a miner's
    "corpus/throttled-20-miner.html",  # the case profiling is for
]
RESOLVER = "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def interval_median(report):
    samples = report.get("cpu_samples", [])
    values = [s.get("cpu_percent", 0) for s in samples if "cpu_percent" in s]
    return statistics.median(values) if values else float("nan")


def check(port, page, profile, workdir):
    db = os.path.join(workdir, "b.db")
    if os.path.exists(db):
        os.remove(db)
    timing = os.path.join(workdir, "time.txt")
    command = ["/usr/bin/time", "-f", "%U %S", "-o", timing, BIN, "check", f"http://site.test:{port}/{page}",
               "--json", "--db", db, RESOLVER, "--allow-network=127.0.0.1"]
    if not profile:
        command.append("--no-profile")
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    report = json.loads(out.stdout)
    user, system = (float(x) for x in open(timing).read().split()[-2:])
    return {"elapsed": report["elapsed_ms"] / 1000, "own_cpu": user + system, "renderer": interval_median(report),
            "verdict": f'{report["verdict"]} {report["confidence"]}', "profiles": report.get("profiles", 0)}


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen([SERVER, "--root", os.path.join(ROOT, "tests/fixtures/sites")],
                                  stdout=subprocess.PIPE, text=True)
        try:
            port = server.stdout.readline().strip().split("=")[1]
            results = {(page, side): [] for page in PAGES for side in "AB"}
            for _ in range(rounds):
                for page in PAGES:
                    for side in "AB":
                        results[(page, side)].append(check(port, page, side == "B", workdir))
        finally:
            server.terminate()
    print(f"{rounds} rounds; A = --no-profile, B = default (profiling); medians")
    print("| page | time to verdict A / B (s) | cjcrawl CPU A / B (s) | renderer median A / B (% of a core) "
          "| profiles B | verdict A / B |")
    print("| --- | --- | --- | --- | --- | --- |")
    for page in PAGES:
        a, b = results[(page, "A")], results[(page, "B")]
        med = lambda runs, key: statistics.median(r[key] for r in runs)
        print(f"| {page} | {med(a, 'elapsed'):.1f} / {med(b, 'elapsed'):.1f} "
              f"| {med(a, 'own_cpu'):.2f} / {med(b, 'own_cpu'):.2f} "
              f"| {med(a, 'renderer'):.0f} / {med(b, 'renderer'):.0f} | {med(b, 'profiles'):.0f} "
              f"| {a[-1]['verdict']} / {b[-1]['verdict']} |")


if __name__ == "__main__":
    main()
