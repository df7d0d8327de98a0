// tests/unit/test_scan_cache.cpp — the scan cache: a script seen on an earlier site comes back with
// the findings a fresh scan gives (and so the same verdict), Wasm and unreadable scripts are never
// cached, and the cache stays within its bound, least recently used first out. No browser.
#include <catch2/catch.hpp>

#include <string>

#include "blacklist/detector.hpp"
#include "blacklist/scan_cache.hpp"

using namespace blacklist;

namespace {

const CpuRule kRule{10, 50, 0.9};

std::string hash_of(int n) {
  std::string hex = std::to_string(n);
  return std::string(64 - hex.size(), 'a') + hex;
}

ScriptRecord fetched(std::string sha256, std::string source) {
  ScriptRecord record;
  record.url = "https://cdn.example/lib.js";
  record.sha256 = std::move(sha256);
  record.language = "JavaScript";
  record.source_state = "fetched";
  record.source = std::move(source);
  return record;
}

// As the crawler records a script it has not read: hash and language from CDP, nothing else.
ScriptRecord parsed(std::string sha256, std::string language = "JavaScript") {
  ScriptRecord record;
  record.url = "https://other-site.example/js/app.js";
  record.sha256 = std::move(sha256);
  record.language = std::move(language);
  return record;
}

Detector keyword_detector() {
  RuleTexts texts;
  texts.keywords = "9    CoinHive\\.Anonymous\\b\n9    \\bWEBSOCKET_SHARDS\\b\n";
  auto loaded = Rules::from_text(texts);
  REQUIRE(loaded.problems.empty());
  return Detector(std::move(loaded.rules));
}

Verdict verdict_with(const Detector& detector, const ScriptRecord& script) {
  Evidence evidence;
  evidence.input = evidence.url = evidence.final_url = "https://victim.example/";
  evidence.cpu_samples = {{0, 0}};
  for (int i = 1; i <= 10; ++i) evidence.cpu_samples.push_back({i * 0.2, i * 0.2 * 0.99});
  evidence.scripts.push_back(script);
  return detector.judge(evidence, kRule, decide(kRule, evidence.cpu_samples, kRule.window)).verdict;
}

}  // namespace

TEST_CASE("a script scanned on one site brings the same findings, and verdict, to the next", "[scan_cache]") {
  const auto detector = keyword_detector();
  ScanCache cache(16);
  auto first =
      fetched(hash_of(1), "var m = new CoinHive.Anonymous('k'); var s = WEBSOCKET_SHARDS; CoinHive.Anonymous;");
  detector.examine_script(first);
  REQUIRE(first.keyword_miner);
  cache.remember(first);

  auto later = parsed(hash_of(1));
  REQUIRE(cache.recall(later));
  CHECK(later.source_state == "cached");
  CHECK(later.keyword_score == first.keyword_score);
  CHECK(later.keyword_miner);
  REQUIRE(later.keyword_hits.size() == first.keyword_hits.size());
  for (std::size_t i = 0; i < later.keyword_hits.size(); ++i) {
    CHECK(later.keyword_hits[i].pattern == first.keyword_hits[i].pattern);
    CHECK(later.keyword_hits[i].count == first.keyword_hits[i].count);
  }
  CHECK(verdict_with(detector, later) == verdict_with(detector, first));
  CHECK(verdict_with(detector, later) == Verdict::cryptojacking);
  CHECK(later.url == "https://other-site.example/js/app.js");  // the record keeps its own URL
  CHECK(cache.hits() == 1);

  auto unseen = parsed(hash_of(2));
  CHECK_FALSE(cache.recall(unseen));
  CHECK(unseen.source_state.empty());
  CHECK(cache.hits() == 1);
}

TEST_CASE("a clean script is cached as clean: no findings carried over from elsewhere", "[scan_cache]") {
  const auto detector = keyword_detector();
  ScanCache cache(16);
  auto miner = fetched(hash_of(1), "CoinHive.Anonymous WEBSOCKET_SHARDS CoinHive.Anonymous");
  auto plain = fetched(hash_of(2), "document.title = 'hello';");
  detector.examine_script(miner);
  detector.examine_script(plain);
  cache.remember(miner);
  cache.remember(plain);
  auto later = parsed(hash_of(2));
  REQUIRE(cache.recall(later));
  CHECK_FALSE(later.keyword_miner);
  CHECK(later.keyword_hits.empty());
  CHECK(later.keyword_score == 0);
}

TEST_CASE("Wasm, unread sources and malformed hashes are never cached", "[scan_cache]") {
  const auto detector = keyword_detector();
  ScanCache cache(16);
  // Chrome 156 gives every Wasm module the hash of the empty string: it names no content.
  auto wasm = fetched("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", std::string("\0asm", 4));
  wasm.language = "WebAssembly";
  cache.remember(wasm);
  auto other_module = parsed(wasm.sha256, "WebAssembly");
  CHECK_FALSE(cache.recall(other_module));

  for (const char* state : {"oversize", "unavailable", "gone", "duplicate", "pending", "cached"}) {
    auto unread = fetched(hash_of(3), "");
    unread.source_state = state;
    cache.remember(unread);
  }
  auto copy = parsed(hash_of(3));
  CHECK_FALSE(cache.recall(copy));

  for (const char* key : {"", "abc", "AAAA", "../../etc/passwd"}) {
    auto odd = fetched(key, "x");
    cache.remember(odd);
  }
  auto upper = fetched(std::string(64, 'A'), "x");  // CDP writes lowercase hex
  cache.remember(upper);
  CHECK(cache.size() == 0);
  CHECK(ScanCache::valid_key(hash_of(1)));
  CHECK_FALSE(ScanCache::valid_key(std::string(63, 'a')));
}

TEST_CASE("the cache keeps at most its capacity, dropping the least recently used", "[scan_cache]") {
  ScanCache cache(3);
  for (int n = 1; n <= 3; ++n) cache.remember(fetched(hash_of(n), ""));
  auto touch = parsed(hash_of(1));
  REQUIRE(cache.recall(touch));             // 1 is now the most recently used
  cache.remember(fetched(hash_of(4), ""));  // so 2 goes
  CHECK(cache.size() == 3);
  for (int n : {1, 3, 4}) {
    auto again = parsed(hash_of(n));
    CHECK(cache.recall(again));
  }
  auto evicted = parsed(hash_of(2));
  CHECK_FALSE(cache.recall(evicted));

  ScanCache off(0);
  off.remember(fetched(hash_of(1), ""));
  CHECK(off.size() == 0);
}
