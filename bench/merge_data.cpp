// bench/merge_data.cpp — shard files for the merge benchmark (issue 15, BENCHMARKS.md "merge"): what
// `crawl LIST --shard I/S --db shard-I.db` would leave after crawling N sites, written through the real
// store (SqliteStore::open, begin_crawl, one record_visit transaction per site) without a browser.
//
//   build/bench/cjcrawl_merge_data DIR [--visits N] [--shards S]   (defaults 1000000, 3)
//
// Writes DIR/shard-I.db for I in 0…S-1. Each file is built in /dev/shm (a commit's fsync is nearly
// free there), one at a time, then moved to DIR. Position p (1…N) belongs to shard p % S. Each site
// has its own input and URL, a clean visit's evidence (12 scripts, 2 sockets, 41 CPU samples) and
// started_at_ms = t0 + 60 ms × p; about 1% are cryptojacking and name 4 offenders (the page, and a
// pool's ws_endpoint, domain and Wasm hash out of 300 pools, so entries are shared across shards);
// about 0.1% are also recorded in the next shard's file an hour later (duplicates for the merge).
// Not a test: the figures go in BENCHMARKS.md.
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

#include "bench/typical_evidence.hpp"
#include "blacklist/known.hpp"
#include "db/sqlite_store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1'796'000'000'000;  // 2026-11-30, fixed so two runs write the same data
constexpr std::int64_t kStepMs = 60;
constexpr std::int64_t kElapsedMs = 11'000;
constexpr std::int64_t kDuplicateLaterMs = 3'600'000;  // the shard "run again" an hour later
constexpr int kPools = 300;

std::uint64_t mix(std::uint64_t x) {  // splitmix64: a fixed, well-spread choice per position
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
bool is_miner(std::int64_t position) { return mix(static_cast<std::uint64_t>(position)) % 100 == 0; }
bool is_duplicated(std::int64_t position) { return (mix(static_cast<std::uint64_t>(position)) / 100) % 1000 == 0; }
int pool_of(std::int64_t position) {
  return static_cast<int>((mix(static_cast<std::uint64_t>(position)) / 100'000) % kPools);
}

std::string hex64(std::uint64_t seed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    std::uint64_t word = mix(seed + static_cast<std::uint64_t>(i));
    for (int j = 0; j < 16; ++j, word >>= 4) out.push_back(kHex[word & 15]);
  }
  return out;
}

// A miner page: the typical evidence plus a Wasm module and a pool socket speaking a known protocol.
void make_miner(blacklist::Evidence& evidence, blacklist::Judgement& judgement, int pool) {
  const std::string domain = "pool" + std::to_string(pool) + ".minepool.example";
  const std::string wasm = hex64(1'000'000 + static_cast<std::uint64_t>(pool));
  blacklist::ScriptRecord module;
  module.url = "https://" + domain + "/lib/cn.wasm";
  module.sha256 = wasm;
  module.length = 220'000;
  module.language = "WebAssembly";
  module.target_type = "worker";
  module.target_url = "https://" + domain + "/lib/worker.js";
  module.wasm_fingerprinted = true;
  module.wasm_miner = true;
  module.wasm_score = 0.9;
  module.wasm_primitives = {"keccak", "aes", "blake"};
  evidence.scripts.push_back(std::move(module));
  blacklist::WebSocketRecord socket;
  socket.url = "wss://" + domain + "/ws";
  socket.target_type = "worker";
  socket.target_url = "https://" + domain + "/lib/worker.js";
  socket.handshake_status = 101;
  socket.frames_sent = 4;
  socket.frames_received = 6;
  socket.pool.protocol = "coinhive";
  socket.pool.logins = 1;
  socket.pool.jobs = 3;
  socket.pool.submits = 1;
  socket.pool.confirmed = true;
  evidence.websockets.push_back(socket);
  for (auto& sample : evidence.cpu_samples) sample.cpu_seconds = sample.t_seconds * 0.95;

  judgement.verdict = blacklist::Verdict::cryptojacking;
  judgement.confidence = 85 + pool % 15;
  judgement.reasons = {{"pool_protocol", "coinhive login and jobs on " + socket.url, "conclusive"},
                       {"wasm_hash", "mining-hash structure in " + wasm, "strong"}};
  judgement.offenders = {{"page", evidence.input},
                         {"ws_endpoint", blacklist::endpoint_key(socket.url)},
                         {"domain", domain},
                         {"wasm_sha256", wasm}};
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "cjcrawl_merge_data: %s\n", what.c_str());
  std::exit(1);
}

// Across file systems (/dev/shm → disk) rename fails; copy, then remove.
void move_file(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::rename(from, to, error);
  if (!error) return;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
  if (error) fail("copy " + from.string() + " to " + to.string() + ": " + error.message());
  fs::remove(from);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: cjcrawl_merge_data DIR [--visits N] [--shards S]\n");
    return 2;
  }
  const fs::path dir = argv[1];
  std::int64_t visits = 1'000'000;
  int shards = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--visits") visits = std::atoll(argv[i + 1]);
    else if (flag == "--shards") shards = std::atoi(argv[i + 1]);
    else fail("unknown option " + std::string(flag));
  }
  if (visits < 1 || shards < 1) fail("--visits and --shards must be positive");
  fs::create_directories(dir);
  const fs::path scratch = fs::path("/dev/shm") / ("cjcrawl-merge-data-" + std::to_string(::getpid()));
  fs::create_directories(scratch);

  std::int64_t all_records = 0, all_miners = 0, all_duplicates = 0;
  const auto started = Clock::now();
  for (int shard = 0; shard < shards; ++shard) {
    const std::string name = "shard-" + std::to_string(shard) + ".db";
    const fs::path building = scratch / name;
    fs::remove(building);
    std::int64_t records = 0, miners = 0, duplicates = 0;
    const auto shard_started = Clock::now();
    {
      auto opened = db::SqliteStore::open(building);
      if (!opened) fail("open " + building.string() + ": " + opened.error().describe());
      db::SqliteStore store = std::move(opened).value();
      db::Store::CrawlRow row;
      row.started_ms = kT0 + shard;
      row.input_path = "/data/sites-1m.txt";
      row.input_digest = std::string(64, 'd');  // the same list in every shard
      row.selection = "shard=" + std::to_string(shard) + "/" + std::to_string(shards) + " limit=none";
      row.total = visits / shards + (shard < visits % shards ? 1 : 0);  // positions p ≡ shard (mod S), p in 0…N-1
      row.options_json = R"({"concurrency":4,"retries":1,"deadline_seconds":45,"sample_period_ms":250})";
      auto id = store.begin_crawl(row);
      if (!id) fail("begin_crawl: " + id.error().describe());
      const int previous = (shard + shards - 1) % shards;
      for (std::int64_t p = 0; p < visits; ++p) {
        const int owner = static_cast<int>(p % shards);
        const bool own = owner == shard;
        const bool again = shards > 1 && owner == previous && is_duplicated(p);
        if (!own && !again) continue;
        const std::int64_t position = p + 1;  // input lines count from 1
        const std::int64_t started_at = kT0 + kStepMs * p + (own ? 0 : kDuplicateLaterMs);
        auto evidence = bench::typical_evidence(position, started_at, kElapsedMs);
        blacklist::Judgement judgement;
        judgement.verdict = blacklist::Verdict::clean;
        if (is_miner(p)) {
          make_miner(evidence, judgement, pool_of(p));
          ++miners;
        }
        db::Store::CrawlSite site;
        site.crawl_id = *id;
        site.position = position;
        site.attempt = 1;
        site.line = blacklist::to_json(evidence, judgement).dump();
        auto recorded = store.record_visit(evidence, judgement, started_at + kElapsedMs, &site);
        if (!recorded) fail("record_visit at line " + std::to_string(position) + ": " + recorded.error().describe());
        ++records;
        if (!own) ++duplicates;
        if (records % 100'000 == 0) {
          const double seconds = std::chrono::duration<double>(Clock::now() - shard_started).count();
          std::fprintf(stderr, "  %s: %lld visits, %.0f/s\n", name.c_str(), static_cast<long long>(records),
                       static_cast<double>(records) / seconds);
        }
      }
      if (auto ended = store.set_crawl_state(*id, "completed", kT0 + kStepMs * visits + kElapsedMs); !ended)
        fail("set_crawl_state: " + ended.error().describe());
    }  // closed: the WAL is checkpointed into the file
    for (const char* suffix : {"-wal", "-shm"}) fs::remove(building.string() + suffix);
    move_file(building, dir / name);
    const double seconds = std::chrono::duration<double>(Clock::now() - shard_started).count();
    std::printf("%s\t%llu bytes\t%lld visits (%lld cryptojacking, %lld duplicates of shard %d)\t%.0f s\n",
                (dir / name).c_str(), static_cast<unsigned long long>(fs::file_size(dir / name)),
                static_cast<long long>(records), static_cast<long long>(miners), static_cast<long long>(duplicates),
                (shard + shards - 1) % shards, seconds);
    std::fflush(stdout);
    all_records += records;
    all_miners += miners;
    all_duplicates += duplicates;
  }
  fs::remove_all(scratch);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("total\t%lld visits (%lld cryptojacking, %lld duplicates) in %.0f s (%.0f visits/s)\n",
              static_cast<long long>(all_records), static_cast<long long>(all_miners),
              static_cast<long long>(all_duplicates), seconds, static_cast<double>(all_records) / seconds);
  return 0;
}
