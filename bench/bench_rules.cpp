// bench/bench_rules.cpp — rule matching speed against the issue-3 targets.
//
// Targets (BENCHMARKS.md): script scanning with the default rules ≥ 300 MB/s per core on a mixed
// 50 MB corpus; host lookup against a 100,000-domain blacklist ≤ 200 ns median.
// The corpus is generated (seeded, so every run scans the same bytes): minified-looking benign
// JavaScript of log-uniform sizes, about 1% of the scripts with a miner embedded. Run with
//   cjcrawl_bench_rules --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "blacklist/rules.hpp"

namespace {

constexpr std::size_t kCorpusBytes = 50u << 20;
constexpr std::size_t kMinScriptBytes = 1u << 10;
constexpr std::size_t kMaxScriptBytes = 512u << 10;
constexpr double kMinerScriptShare = 0.01;
constexpr std::size_t kBlacklistDomains = 100'000;
constexpr std::size_t kQueries = 1u << 14;

const blacklist::Rules& default_rules() {
  static const blacklist::Rules rules = [] {
    auto loaded = blacklist::Rules::load(std::filesystem::path(CJCRAWL_SOURCE_DIR) / "seeds" / "rules");
    for (const auto& problem : loaded.problems) std::fprintf(stderr, "%s\n", blacklist::to_string(problem).c_str());
    return loaded.rules;
  }();
  return rules;
}

// Benign-looking minified JavaScript: short identifiers, DOM and library vocabulary, literals.
std::string benign_script(std::mt19937_64& random, std::size_t size) {
  static const char* const kTokens[] = {
      "function(",
      "){",
      "}",
      "return ",
      "var ",
      "let ",
      "const ",
      "this.",
      "if(",
      "else ",
      "for(",
      "while(",
      "new ",
      "typeof ",
      "instanceof ",
      "null",
      "void 0",
      "!0",
      "!1",
      "&&",
      "||",
      "===",
      "!==",
      "=>",
      "?",
      ":",
      ",",
      ";",
      ".",
      "(",
      ")",
      "[",
      "]",
      "+",
      "-",
      "*",
      "/",
      "%",
      "<<",
      ">>>",
      "&",
      "|",
      "^",
      "=",
      "==",
      "prototype",
      "length",
      "push",
      "call",
      "apply",
      "bind",
      "Object.defineProperty",
      "Array.isArray",
      "document.createElement(\"div\")",
      "window.addEventListener(\"load\",",
      "getElementById(",
      "querySelectorAll(",
      "setTimeout(",
      "Promise.resolve(",
      "JSON.parse(",
      "JSON.stringify(",
      "Math.floor(",
      "Math.random()",
      "console.log(",
      "fetch(\"/api/v1/items\")",
      "then(",
      "catch(",
      "exports.",
      "module.exports=",
      "require(\"",
      "__webpack_require__(",
      "Symbol.iterator",
      "\"use strict\";",
      "0x1f",
      "1e3",
      "255",
      "\"click\"",
      "\"undefined\"",
      "'data-id'",
      "/^\\s+|\\s+$/g",
      "navigator.userAgent",
      "location.href",
      "style.display=\"none\"",
      "classList.add(\"active\")",
      "start",
      "stop",
      "miner",
      "hash",
      "coin",
      "client",
      "user",
      "anonymous",
      "config",
      "worker",
      "socket",
      "WebSocket",
      "Worker(",
      "postMessage(",
      "onmessage=",
      "throttle",
      "wasm",
      "WebAssembly.instantiate(",
  };
  constexpr std::size_t kTokenCount = sizeof kTokens / sizeof kTokens[0];
  std::string text;
  text.reserve(size + 64);
  while (text.size() < size) {
    if (random() % 3 == 0) {  // a minified identifier
      const std::size_t length = 1 + random() % 3;
      for (std::size_t i = 0; i < length; ++i) text.push_back(static_cast<char>('a' + random() % 26));
    } else {
      text += kTokens[random() % kTokenCount];
    }
  }
  text.resize(size);
  return text;
}

// What an injected Coinhive-style miner adds to a page's script.
constexpr const char* kMinerSnippet = R"JS(
var CoinHive=window.CoinHive||{};CoinHive.CONFIG={LIB_URL:"https://coinhive.com/lib/",
WEBSOCKET_SHARDS:[["wss://ws001.coinhive.com/proxy","wss://ws002.coinhive.com/proxy"]],
ASMJS_NAME:"cryptonight-asmjs.min.js",REQUIRES_AUTH:false};
CoinHive.CRYPTONIGHT_WORKER_BLOB=URL.createObjectURL(new Blob(["self.CryptonightWASMWrapper=function(){"
+"this.ctx=_cryptonight_create()};"]));
var miner=new CoinHive.Anonymous("SITE_KEY",{throttle:0.2,autoThreads:true,forceASMJS:false});
if(!miner.didOptOut(14400)){miner.start(CoinHive.IF_EXCLUSIVE_TAB)}
setInterval(function(){var h=miner.getHashesPerSecond(),t=miner.getTotalHashes(),a=miner.getAcceptedHashes();
document.title=h.toFixed(1)+" H/s "+t+"/"+a},1000);
)JS";

struct Corpus {
  std::vector<std::string> scripts;
  std::size_t bytes = 0;
  std::size_t miners = 0;
};

const Corpus& corpus() {
  static const Corpus instance = [] {
    Corpus corpus;
    std::mt19937_64 random(20240603);
    std::uniform_real_distribution<double> log_size(std::log(static_cast<double>(kMinScriptBytes)),
                                                    std::log(static_cast<double>(kMaxScriptBytes)));
    std::bernoulli_distribution miner(kMinerScriptShare);
    while (corpus.bytes < kCorpusBytes) {
      auto script = benign_script(random, static_cast<std::size_t>(std::exp(log_size(random))));
      if (miner(random)) {
        script.insert(random() % script.size(), kMinerSnippet);
        ++corpus.miners;
      }
      corpus.bytes += script.size();
      corpus.scripts.push_back(std::move(script));
    }
    return corpus;
  }();
  return instance;
}

void scan_corpus(benchmark::State& state, const blacklist::Rules& rules) {
  const auto& input = corpus();
  std::size_t flagged = 0;
  for (auto _ : state) {
    flagged = 0;
    for (const auto& script : input.scripts) {
      const auto scan = rules.scan_script(script);
      flagged += scan.miner_signal() ? 1 : 0;
    }
    benchmark::DoNotOptimize(flagged);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(input.bytes));
  state.counters["scripts"] = static_cast<double>(input.scripts.size());
  state.counters["miners"] = static_cast<double>(input.miners);
  state.counters["flagged"] = static_cast<double>(flagged);
}

// The engine's path: one RE2::Set pass, then counting only the patterns that occur.
void BM_ScanScripts(benchmark::State& state) { scan_corpus(state, default_rules()); }
BENCHMARK(BM_ScanScripts)->Unit(benchmark::kMillisecond);

// The fallback when the Set cannot be built: every pattern on its own. Same results, shows the cost.
void BM_ScanScriptsFallback(benchmark::State& state) {
  static const blacklist::Rules rules = [] {
    std::ifstream in(std::filesystem::path(CJCRAWL_SOURCE_DIR) / "seeds" / "rules" / "keywords.txt");
    std::stringstream text;
    text << in.rdbuf();
    blacklist::RuleTexts texts;
    texts.keywords = text.str();
    return blacklist::Rules::from_text(texts, blacklist::RuleLimits{1024}).rules;
  }();
  scan_corpus(state, rules);
}
BENCHMARK(BM_ScanScriptsFallback)->Unit(benchmark::kMillisecond)->Iterations(1);

// --- Host lookup ---------------------------------------------------------------------------------------

std::string random_label(std::mt19937_64& random, std::size_t min_length, std::size_t max_length) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  const std::size_t length = min_length + random() % (max_length - min_length + 1);
  std::string label;
  for (std::size_t i = 0; i < length; ++i) label.push_back(kChars[random() % 26 + (i > 0 ? random() % 11 : 0)]);
  return label;
}

std::string random_domain(std::mt19937_64& random) {
  static const char* const kSuffixes[] = {"com",    "net", "org", "ru",  "info", "xyz", "de",        "co.uk",
                                          "com.br", "io",  "pw",  "win", "bid",  "top", "github.io", "herokuapp.com"};
  return random_label(random, 4, 14) + "." + kSuffixes[random() % (sizeof kSuffixes / sizeof kSuffixes[0])];
}

struct HostFixture {
  blacklist::Rules rules;
  std::vector<std::string> listed;      // blacklisted names
  std::vector<std::string> subdomains;  // hosts under a listed name
  std::vector<std::string> unlisted;    // hosts no entry covers
  std::size_t entries = 0;
  std::size_t problems = 0;
};

const HostFixture& host_fixture() {
  static const HostFixture instance = [] {
    HostFixture fixture;
    std::mt19937_64 random(7);
    std::string domains;
    std::vector<std::string> names;
    while (names.size() < kBlacklistDomains) {
      names.push_back(random_domain(random));
      domains += names.back() + "\n";
    }
    // The real CoinBlockerLists domain list too (AGPL data, used here only as input), if present.
    std::ifstream coinblocker(std::filesystem::path(CJCRAWL_BLOCKLISTS) / "coinblocker-list.txt");
    std::string line;
    while (std::getline(coinblocker, line)) domains += line + "\n";
    blacklist::RuleTexts texts;
    texts.domains = std::move(domains);
    auto loaded = blacklist::Rules::from_text(texts);
    fixture.rules = loaded.rules;
    fixture.problems = loaded.problems.size();  // duplicates, ports, non-ASCII names in the real list
    fixture.entries = fixture.rules.counts().blacklisted_hosts;
    for (std::size_t i = 0; i < kQueries; ++i) {
      const auto& name = names[random() % names.size()];
      fixture.listed.push_back(name);
      fixture.subdomains.push_back(random_label(random, 2, 8) + "." + random_label(random, 3, 6) + "." + name);
      fixture.unlisted.push_back("www." + random_label(random, 15, 20) + ".com");
    }
    return fixture;
  }();
  return instance;
}

void lookup(benchmark::State& state, const std::vector<std::string>& hosts, blacklist::Listing expected) {
  const auto& fixture = host_fixture();
  std::size_t i = 0;
  std::size_t wrong = 0;
  for (auto _ : state) {
    const auto match = fixture.rules.match_host(hosts[i]);
    wrong += match.listing != expected ? 1 : 0;
    benchmark::DoNotOptimize(match);
    i = (i + 1) % hosts.size();
  }
  state.counters["entries"] = static_cast<double>(fixture.entries);
  state.counters["problems"] = static_cast<double>(fixture.problems);
  if (wrong != 0) state.SkipWithError("a lookup returned the wrong listing");
}

void BM_HostLookupListed(benchmark::State& state) {
  lookup(state, host_fixture().listed, blacklist::Listing::blacklisted);
}
void BM_HostLookupSubdomain(benchmark::State& state) {
  lookup(state, host_fixture().subdomains, blacklist::Listing::blacklisted);
}
void BM_HostLookupUnlisted(benchmark::State& state) {
  lookup(state, host_fixture().unlisted, blacklist::Listing::none);
}
BENCHMARK(BM_HostLookupListed);
BENCHMARK(BM_HostLookupSubdomain);
BENCHMARK(BM_HostLookupUnlisted);

}  // namespace

BENCHMARK_MAIN();
