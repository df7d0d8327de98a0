#!/usr/bin/env bash
# Fuzzes every parser that takes bytes from outside (issue 16): builds the libFuzzer targets of
# tests/fuzz/ into build-fuzz/ (clang 14, -fsanitize=fuzzer,address,undefined; incremental, ccache
# when present) and runs each for SECONDS, two at a time, each on a copy of its seed corpus in
# build-fuzz/corpus/ (the repository's corpus is never written). Prints per target the executions,
# executions per second and the coverage libFuzzer reached (cov: edges, ft: features), and exits 1
# if any target crashed, naming the input that did (build-fuzz/artifacts/<target>/crash-...).
# A crash found becomes a regression: copy the input to tests/fuzz/regressions/<target>/ with the fix.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]      (default 60 s, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
all_targets=(cdp_message cdp_router blocklist wasm pool_protocol feed url_input crawl_input)
targets=("${@:-${all_targets[@]}}")
parallel=2  # two cores

# clang 14 and its fuzzer runtime, installed the way setup-deps.sh installs everything.
missing=()
for package in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

# -O1: the usual fuzzing trade between speed and build time; asserts stay on (no NDEBUG).
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCJCRAWL_FUZZ=ON -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_CXX_FLAGS=-O1 >/dev/null
fi
build_start=$(date +%s)
cmake --build build-fuzz -j "$(nproc)" --target cjcrawl_fuzzers
echo "fuzz: build took $(($(date +%s) - build_start)) s"

# Inputs longer than these teach nothing the seeds' sizes do not, and slow every execution.
declare -A max_len=(
  [cdp_message]=16384 [cdp_router]=16384 [blocklist]=16384 [wasm]=65536
  [pool_protocol]=8192 [feed]=1024 [url_input]=4096 [crawl_input]=8192
)
symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_target() {
  local name=$1
  local corpus=build-fuzz/corpus/$name artifacts=build-fuzz/artifacts/$name log=build-fuzz/logs/$name.log
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts" build-fuzz/logs
  cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  local dict=()
  [ -f "tests/fuzz/dict/$name.dict" ] && dict=("-dict=tests/fuzz/dict/$name.dict")
  local status=0
  "build-fuzz/tests/fuzz/fuzz_$name" "$corpus" "${dict[@]}" -max_total_time="$seconds" \
    -max_len="${max_len[$name]:-4096}" -rss_limit_mb=1024 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  echo "$status" >"build-fuzz/logs/$name.status"
}

echo "fuzz: ${#targets[@]} targets, $seconds s each, $parallel at a time"
for name in "${targets[@]}"; do
  [ -x "build-fuzz/tests/fuzz/fuzz_$name" ] || { echo "fuzz: no target $name"; exit 2; }
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  run_target "$name" &
done
wait

failed=0
printf '%-14s %8s %12s %9s %7s %7s %s\n' target seconds executions exec/s cov ft result
for name in "${targets[@]}"; do
  log=build-fuzz/logs/$name.log
  status=$(cat "build-fuzz/logs/$name.status")
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # The last status line ("#N  REDUCE/NEW/pulse/DONE  cov: C ft: F ...") holds the coverage reached.
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if [ "$status" != 0 ]; then
    failed=1
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    result="CRASH (exit $status): ${crash:-see $log}"
  fi
  printf '%-14s %8s %12s %9s %7s %7s %s\n' "$name" "$seconds" "${executions:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "$result"
done
if [ $failed -ne 0 ]; then
  echo "fuzz: a target crashed; its log is in build-fuzz/logs/. Reproduce with build-fuzz/tests/fuzz/fuzz_<target> FILE,"
  echo "fix it, and keep the input as tests/fuzz/regressions/<target>/<name> (the unit tests replay it)."
  exit 1
fi
