// tests/unit/test_rules.cpp — the rule files and the matching engine (blacklist/rules).
//
// Short tables per field, the keyword score on prose versus a real-looking miner, a differential
// test of the RE2::Set path against plain per-pattern matching, the fallback when the Set's memory
// budget is exhausted, and the shipped seeds/rules loading without a single problem.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "blacklist/rules.hpp"

using blacklist::Listing;
using blacklist::MatchPath;
using blacklist::RuleProblem;
using blacklist::Rules;
using blacklist::RuleTexts;

namespace {

std::filesystem::path source_dir() {
#ifdef CJCRAWL_SOURCE_DIR
  return CJCRAWL_SOURCE_DIR;
#else
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();  // tests/unit/ → root
#endif
}

std::filesystem::path seed_rules_dir() { return source_dir() / "seeds" / "rules"; }

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rules from text; the test fails if loading reports anything.
Rules clean_rules(const RuleTexts& texts) {
  auto loaded = Rules::from_text(texts);
  for (const auto& problem : loaded.problems) FAIL_CHECK(blacklist::to_string(problem));
  return loaded.rules;
}

Rules keyword_rules(const std::string& keywords) { return clean_rules(RuleTexts{keywords, {}, {}, {}, {}}); }
Rules domain_rules(const std::string& domains) { return clean_rules(RuleTexts{{}, {}, {}, domains, {}}); }
Rules ip_rules(const std::string& ips) { return clean_rules(RuleTexts{{}, {}, {}, {}, ips}); }

const Rules& seed_rules() {
  static const Rules rules = Rules::load(seed_rules_dir()).rules;
  return rules;
}

std::uint64_t count_of(const blacklist::KeywordScan& scan, const std::string& pattern) {
  for (const auto& hit : scan.hits)
    if (hit.pattern == pattern) return hit.count;
  return 0;
}

// A page's copy of a Coinhive-style miner library and its loader, written for this test after the
// API coinhive.min.js exposed (2017–2019): configuration, shards, tab modes, the Miner object, the
// Anonymous/User constructors, hash-rate getters, the JSON job/submit protocol, the worker blob.
constexpr const char* kCoinhiveLoader = R"JS((function(window){"use strict";
var CoinHive=window.CoinHive||{};
CoinHive.CONFIG={LIB_URL:"https://coinhive.com/lib/",ASMJS_NAME:"cryptonight-asmjs.min.js",REQUIRES_AUTH:false,
WEBSOCKET_SHARDS:[["wss://ws001.coinhive.com/proxy","wss://ws002.coinhive.com/proxy","wss://ws003.coinhive.com/proxy"],
["wss://ws004.coinhive.com/proxy","wss://ws005.coinhive.com/proxy"]],CAPTCHA_URL:"https://coinhive.com/captcha/",
MINER_URL:"https://coinhive.com/media/miner.html"};
CoinHive.IF_EXCLUSIVE_TAB="ifExclusiveTab";CoinHive.FORCE_EXCLUSIVE_TAB="forceExclusiveTab";
CoinHive.FORCE_MULTI_TAB="forceMultiTab";
CoinHive.Miner=function(siteKey,params){params=params||{};this._siteKey=siteKey;this._user=null;this._threads=[];
this._hashes=0;this._currentJob=null;this._autoReconnect=true;this._reconnectRetry=3;this._goal=0;
this._totalHashesFromDeadThreads=0;this._throttle=Math.max(0,Math.min(.99,params.throttle||0));
this._autoThreads={enabled:!!params.autoThreads,interval:null,adjustAt:null,adjustEvery:1e4,stats:{}};
this._tab={ident:Math.random()*16777215|0,mode:CoinHive.IF_EXCLUSIVE_TAB,grace:0,lastPingReceived:0,interval:null};
this._useWASM=this.hasWASMSupport()&&!params.forceASMJS;this._asmjsStatus="unloaded";
this._onTargetMetBound=this._onTargetMet.bind(this);this._eventListeners={open:[],authed:[],close:[],error:[],
job:[],found:[],accepted:[]};this._targetNumThreads=params.threads||navigator.hardwareConcurrency||4};
CoinHive.Miner.prototype.start=function(mode){this._tab.mode=mode||CoinHive.IF_EXCLUSIVE_TAB;
if(this._tab.interval){clearInterval(this._tab.interval)}this._tab.interval=setInterval(this._updateTabs.bind(this),1e3);
this._connect()};
CoinHive.Miner.prototype.stop=function(){for(var i=0;i<this._threads.length;i++){
this._totalHashesFromDeadThreads+=this._threads[i].hashesTotal;this._threads[i].stop()}this._threads=[];
this._autoReconnect=false;if(this._socket){this._socket.close()}this._currentJob=null};
CoinHive.Miner.prototype.getHashesPerSecond=function(){var hashesPerSecond=0;
for(var i=0;i<this._threads.length;i++){hashesPerSecond+=this._threads[i].hashesPerSecond}return hashesPerSecond};
CoinHive.Miner.prototype.getTotalHashes=function(estimate){var now=Date.now(),hashes=this._totalHashesFromDeadThreads;
for(var i=0;i<this._threads.length;i++){hashes+=this._threads[i].hashesTotal}return hashes};
CoinHive.Miner.prototype.getAcceptedHashes=function(){return this._hashes};
CoinHive.Miner.prototype.setThrottle=function(throttle){this._throttle=Math.max(0,Math.min(.99,throttle));
for(var i=0;i<this._threads.length;i++){this._threads[i].throttle=this._throttle}};
CoinHive.Miner.prototype._onMessage=function(ev){var msg=JSON.parse(ev.data);
if(msg.type==="job"){this._setJob(msg.params)}else if(msg.type==="hash_accepted"){this._hashes=msg.params.hashes;
this._emit("accepted",msg.params)}else if(msg.type==="authed"){this._tokenFromServer=msg.params.token||null;
this._hashes=msg.params.hashes||0;this._emit("authed",msg.params)}else if(msg.type==="error"){this._emit("error",msg.params)}};
CoinHive.Miner.prototype._onTargetMet=function(result){this._emit("found",result);
this._send("submit",{job_id:result.job_id,nonce:result.nonce,result:result.result})};
CoinHive.Miner.prototype._send=function(type,params){this._socket.send(JSON.stringify({type:type,params:params||{}}))};
CoinHive.Miner.prototype._connect=function(){var shards=CoinHive.CONFIG.WEBSOCKET_SHARDS;
var shard=shards[Math.random()*shards.length|0];var proxy=shard[Math.random()*shard.length|0];
this._socket=new WebSocket(proxy);this._socket.onmessage=this._onMessage.bind(this);
this._socket.onopen=function(){this._send("auth",{site_key:this._siteKey,type:this._user?"user":"anonymous",
user:this._user,goal:this._goal})}.bind(this)};
CoinHive.JobThread=function(){this.worker=new Worker(CoinHive.CRYPTONIGHT_WORKER_BLOB);this.currentJob=null;
this.hashesPerSecond=0;this.hashesTotal=0;this.running=false};
CoinHive.Anonymous=function(siteKey,params){return new CoinHive.Miner(siteKey,params)};
CoinHive.User=function(siteKey,user,params){var miner=new CoinHive.Miner(siteKey,params);miner._user=user;return miner};
window.CoinHive=CoinHive})(window);
var miner=new CoinHive.Anonymous("Kj8f2WnQpX0vL3sYtR7uB1mE",{throttle:0.3,autoThreads:true});
if(!miner.didOptOut(14400)){miner.start(CoinHive.FORCE_MULTI_TAB)}
setInterval(function(){document.getElementById("rate").textContent=miner.getHashesPerSecond().toFixed(1)+" H/s"},1000);
)JS";

// An article about cryptojacking: the names appear, in prose, a few times.
constexpr const char* kArticle =
    "Cryptojacking: how websites mined Monero in your browser. In September 2017 a service called Coinhive "
    "offered site owners a JavaScript miner: embed one script tag and every visitor's CPU would compute "
    "CryptoNight hashes for the Monero network, with the site keeping 70 percent of the payout. Within weeks "
    "the Coinhive miner turned up on file-sharing sites, on government pages through compromised plug-ins, and "
    "in browser extensions. Researchers who crawled the top million sites found thousands of pages running "
    "the coinhive miner cryptonight code without telling anyone; ad blockers responded with lists such as "
    "NoCoin. Coinhive shut down in March 2019, citing the drop in Monero's value and a hard fork that changed "
    "the proof-of-work algorithm, but copycat services and self-hosted proxies kept the approach alive. "
    "Visitors usually notice nothing except a fan spinning up; a throttled miner may use only a quarter of a "
    "core, which is why detection tools look at more than CPU load: the scripts a page loads, the WebSocket "
    "endpoints it opens, and the WebAssembly it compiles.";

// A benign minified-looking script of about `size` bytes.
std::string benign_script(std::mt19937& random, std::size_t size) {
  static const char* const kTokens[] = {"function(e,t){",
                                        "return ",
                                        "var n=",
                                        "this.",
                                        "prototype.",
                                        "length",
                                        "push(",
                                        "});",
                                        "if(",
                                        "else{",
                                        "for(var i=0;i<",
                                        "document.",
                                        "window.",
                                        "Math.floor(",
                                        "JSON.stringify(",
                                        "start",
                                        "stop",
                                        "hash",
                                        "coin",
                                        "client",
                                        "user",
                                        ".",
                                        ",",
                                        ";",
                                        "(",
                                        ")",
                                        "\"click\"",
                                        "0x1f"};
  std::string text;
  while (text.size() < size) text += kTokens[random() % (sizeof kTokens / sizeof kTokens[0])];
  return text;
}

// A scratch directory removed on destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("cjcrawl-rules-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

}  // namespace

TEST_CASE("the shipped seeds/rules load with zero problems", "[rules]") {
  const auto loaded = Rules::load(seed_rules_dir());
  for (const auto& problem : loaded.problems) FAIL_CHECK(blacklist::to_string(problem));
  const auto counts = loaded.rules.counts();
  CHECK(counts.keywords >= 40);
  CHECK(counts.script_urls >= 20);
  CHECK(counts.ws_endpoints >= 10);
  CHECK(counts.blacklisted_hosts >= 200);
  CHECK(counts.blacklisted_hosts <= 1000);  // modest: large lists come in through the import
  CHECK(counts.blacklisted_ip_ranges >= 5);
  CHECK_FALSE(blacklist::public_suffix_source().empty());

  // The canonical cases, end to end through the shipped files.
  CHECK(loaded.rules.match_host("ws001.coinhive.com").listing == Listing::blacklisted);
  CHECK(loaded.rules.match_script_url("https://cdn.example.net/js/coinhive.min.js?v=2").patterns.size() == 1);
  CHECK(loaded.rules.match_script_url("https://example.org/static/cryptonight.wasm").patterns.size() == 1);
  CHECK(loaded.rules.match_ws_url("wss://ws001.coinhive.com/proxy").patterns.size() == 1);
  CHECK(loaded.rules.match_script_url("https://example.org/static/jquery.min.js").patterns.empty());
  CHECK(loaded.rules.match_ws_url("wss://chat.example.org/socket").patterns.empty());
}

TEST_CASE("keyword lines: accepted forms and reported problems with file and line", "[rules]") {
  struct Row {
    const char* line;
    const char* problem;  // substring of the reason; empty: accepted
  };
  const Row rows[] = {
      {"8 CoinHive\\.Anonymous", ""},
      {"0.5\t(?i)monero", ""},
      {"10   stratum\\+tcp:// # a '#' belongs to the pattern", ""},
      {"x CoinHive", "bad weight 'x'"},
      {"0 CoinHive", "bad weight '0'"},
      {"11 CoinHive", "bad weight '11'"},
      {"-2 CoinHive", "bad weight '-2'"},
      {"nan CoinHive", "bad weight 'nan'"},
      {"5", "weight without a pattern"},
      {"5 (unclosed", "bad regex '(unclosed'"},
      {"5 a**", "bad regex"},
      {"5 x*", "empty string"},
      {"5 \\b", "empty string"},
      {"%format 2", "unsupported '%format 2'"},
      {"%include more.txt", "unknown directive '%include more.txt'"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.line);
    const auto loaded = Rules::from_text(RuleTexts{std::string("# comment\n\n") + row.line + "\n", {}, {}, {}, {}});
    if (*row.problem == '\0') {
      CHECK(loaded.problems.empty());
      CHECK(loaded.rules.counts().keywords == (std::string(row.line).starts_with('%') ? 0u : 1u));
    } else {
      REQUIRE(loaded.problems.size() == 1);
      CHECK(loaded.problems[0].file == "keywords.txt");
      CHECK(loaded.problems[0].line == 3);
      CHECK_THAT(loaded.problems[0].reason, Catch::Contains(row.problem));
      CHECK(loaded.rules.counts().keywords == 0);
    }
  }
}

TEST_CASE("a bad entry is skipped, the rest of the file still loads", "[rules]") {
  const auto loaded =
      Rules::from_text(RuleTexts{"9 CoinHive\\.Anonymous\n5 (bad\n5 getHashesPerSecond\n"
                                 "9 CoinHive\\.Anonymous\n",
                                 "/coinhive\\.min\\.js\n[\n",
                                 {},
                                 "coinhive.com\nbad host\n",
                                 "192.0.2.1\n300.1.1.1\n"});
  REQUIRE(loaded.problems.size() == 5);
  CHECK(blacklist::to_string(loaded.problems[0]).starts_with("keywords.txt:2: bad regex '(bad'"));
  CHECK(blacklist::to_string(loaded.problems[1]) == "keywords.txt:4: duplicate of line 1; skipped");
  CHECK(blacklist::to_string(loaded.problems[2]).starts_with("script_urls.txt:2: bad regex '['"));
  CHECK(blacklist::to_string(loaded.problems[3]).starts_with("domains.txt:2: 'bad host'"));
  CHECK(blacklist::to_string(loaded.problems[4]).starts_with("ips.txt:2: '300.1.1.1'"));
  const auto counts = loaded.rules.counts();
  CHECK(counts.keywords == 2);
  CHECK(counts.script_urls == 1);
  CHECK(counts.blacklisted_hosts == 1);
  CHECK(counts.blacklisted_ip_ranges == 1);
}

TEST_CASE("load reads a directory and names each file's path, missing or odd files are problems", "[rules]") {
  TempDir dir;
  dir.write("keywords.txt", "%format 1\n9 CoinHive\\.Anonymous\n4 \\bgetHashesPerSecond(\n");
  dir.write("domains.txt", "coinhive.com\n");
  std::filesystem::create_directory(dir.path / "ips.txt");
  const auto loaded = Rules::load(dir.path);
  std::vector<std::string> reported;
  for (const auto& problem : loaded.problems) reported.push_back(blacklist::to_string(problem));
  REQUIRE(reported.size() == 4);
  CHECK(reported[0] == (dir.path / "script_urls.txt").string() + ": missing; this field has no rules");
  CHECK(reported[1] == (dir.path / "ws_endpoints.txt").string() + ": missing; this field has no rules");
  CHECK(reported[2] == (dir.path / "ips.txt").string() + ": not a regular file; this field has no rules");
  CHECK(reported[3].starts_with((dir.path / "keywords.txt").string() + ":3: bad regex"));
  CHECK(loaded.rules.counts().keywords == 1);
  CHECK(loaded.rules.match_host("coinhive.com").where == "domains.txt:1");
}

TEST_CASE("keyword score: prose about miners stays below the threshold, a miner goes above", "[rules]") {
  const auto& rules = seed_rules();

  SECTION("an article saying 'coinhive miner cryptonight' in prose") {
    const auto scan = rules.scan_script(kArticle);
    CHECK(count_of(scan, "(?i)coin-?hive") == 4);
    CHECK(count_of(scan, "(?i)cryptonight") == 2);
    CHECK(scan.score < blacklist::kKeywordMinerScore / 2);
    CHECK_FALSE(scan.miner_signal());
    CHECK_FALSE(scan.fallback_used);
  }
  SECTION("the same words inside a large benign bundle, far apart") {
    std::mt19937 random(1);
    const std::string bundle = benign_script(random, 200'000) + "/* coinhive */" + benign_script(random, 200'000) +
                               "var cryptonight=1;" + benign_script(random, 200'000);
    const auto scan = rules.scan_script(bundle);
    CHECK(scan.hits.size() == 2);
    CHECK(scan.score < 2);  // two weight-1 names, halved because they are scattered
  }
  SECTION("a Coinhive-style miner library with its loader") {
    const std::string loader = kCoinhiveLoader;
    REQUIRE(loader.size() > 2'000);
    REQUIRE(loader.size() < 5'000);
    const auto scan = rules.scan_script(loader);
    CHECK(scan.miner_signal());
    CHECK(scan.score > 3 * blacklist::kKeywordMinerScore);
    CHECK(count_of(scan, "CoinHive\\.Anonymous\\b") == 2);
    CHECK(count_of(scan, "\\bWEBSOCKET_SHARDS\\b") == 2);
    CHECK(count_of(scan, "\\bgetHashesPerSecond\\b") == 2);
    CHECK(count_of(scan, "\\bCRYPTONIGHT_WORKER_BLOB\\b") == 1);
    CHECK(scan.hits.front().first_offset > 0);
  }
  SECTION("the loader injected into two megabytes of other code is not diluted") {
    std::mt19937 random(2);
    const std::string padded = benign_script(random, 1'000'000) + kCoinhiveLoader + benign_script(random, 1'000'000);
    const auto alone = rules.scan_script(kCoinhiveLoader);
    const auto scan = rules.scan_script(padded);
    CHECK(scan.miner_signal());
    CHECK(scan.score == Approx(alone.score));
  }
}

TEST_CASE("keyword score: frequency counts logarithmically, counts are bounded", "[rules]") {
  const auto rules = keyword_rules("8 \\bthrottleMiner\\b\n1 (?i)monero\n");
  auto repeated = [](const std::string& word, int times) {
    std::string text;
    for (int i = 0; i < times; ++i) text += word + "=1;";
    return text;
  };
  CHECK(rules.scan_script("throttleMiner=1;").score == Approx(8));
  CHECK(rules.scan_script(repeated("throttleMiner", 8)).score == Approx(8 * (1 + 3)));
  CHECK(rules.scan_script(repeated("throttleMiner", 8)).hits.at(0).count == 8);

  const auto flood = rules.scan_script(repeated("monero", 20'000));
  REQUIRE(flood.hits.size() == 1);
  CHECK(flood.hits[0].count == blacklist::kMaxCountPerPattern);
  CHECK(flood.score == Approx(1 + std::log2(static_cast<double>(blacklist::kMaxCountPerPattern))));

  CHECK(rules.scan_script("").hits.empty());
  CHECK(rules.scan_script("").score == 0);
  CHECK(Rules().scan_script(kCoinhiveLoader).hits.empty());
}

TEST_CASE("differential: the RE2::Set path finds exactly what per-pattern matching finds", "[rules]") {
  const auto& rules = seed_rules();
  // Fragments of miner API and near misses, glued with noise, at random offsets and in random case.
  const std::vector<std::string> fragments = {"CoinHive.Anonymous",
                                              "CoinHive.Anonymou",
                                              "coinhive",
                                              "COIN-HIVE",
                                              "CryptonightWASMWrapper",
                                              "cryptonight",
                                              "cryptonight.wasm",
                                              "WEBSOCKET_SHARDS",
                                              "WEBSOCKET_SHARD",
                                              "deepMiner.Anonymous",
                                              "deep-miner",
                                              "CoinImp",
                                              "Client.Anonymous",
                                              "xClient.Anonymous",
                                              "throttleMiner",
                                              "throttleMiners",
                                              "miner.start(",
                                              "miner.start (",
                                              "stratum+tcp://",
                                              "stratum+udp://",
                                              "hashesPerSecond",
                                              "getHashesPerSecond",
                                              "identifier: \"handshake\"",
                                              "mining.subscribe",
                                              "_cryptonight_hash",
                                              "monero",
                                              "xmrig",
                                              "CRLT.Anonymous",
                                              "FORCE_MULTI_TAB",
                                              "hash_cn",
                                              "https://x.example/lib/coinhive.min.js",
                                              "wss://ws001.coinhive.com/proxy",
                                              "/deepMiner.min.js?x=1",
                                              "?proxy=wss://",
                                              "/wproxy",
                                              "wss://pool.supportxmr.com:443/"};
  const std::string noise = "abcxyz_019 .;(){}[]=+-*/\"'\n\t:?&#%@$";
  std::mt19937 random(42);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int pieces = 1 + static_cast<int>(random() % 40);
    for (int piece = 0; piece < pieces; ++piece) {
      for (auto n = random() % 12; n > 0; --n) text.push_back(noise[random() % noise.size()]);
      if (random() % 3 != 0) {
        std::string fragment = fragments[random() % fragments.size()];
        if (random() % 5 == 0)
          for (char& c : fragment) c = static_cast<char>(random() % 2 ? std::toupper(c) : std::tolower(c));
        text += fragment;
      }
    }
    CAPTURE(text);
    const auto by_set = rules.scan_script(text, MatchPath::set_first);
    const auto by_pattern = rules.scan_script(text, MatchPath::per_pattern);
    REQUIRE(by_set.hits.size() == by_pattern.hits.size());
    for (std::size_t i = 0; i < by_set.hits.size(); ++i) {
      CHECK(by_set.hits[i].pattern == by_pattern.hits[i].pattern);
      CHECK(by_set.hits[i].count == by_pattern.hits[i].count);
      CHECK(by_set.hits[i].first_offset == by_pattern.hits[i].first_offset);
    }
    CHECK(by_set.score == Approx(by_pattern.score));
    CHECK(rules.match_script_url(text).patterns == rules.match_script_url(text, MatchPath::per_pattern).patterns);
    CHECK(rules.match_ws_url(text).patterns == rules.match_ws_url(text, MatchPath::per_pattern).patterns);
  }
}

TEST_CASE("an exhausted RE2::Set budget falls back to per-pattern matching and says so", "[rules]") {
  const std::string keywords = read_file(seed_rules_dir() / "keywords.txt");
  const std::string script_urls = read_file(seed_rules_dir() / "script_urls.txt");
  // 1 KiB cannot hold the Set's program and DFA; RE2 reports that when the Set is compiled.
  const auto starved = Rules::from_text(RuleTexts{keywords, script_urls, {}, {}, {}}, blacklist::RuleLimits{1024});
  REQUIRE(starved.problems.size() == 2);
  for (const auto& problem : starved.problems) {
    CHECK(problem.line == 0);
    CHECK_THAT(problem.reason, Catch::Contains("memory budget of 1024 bytes"));
    CHECK_THAT(problem.reason, Catch::Contains("one at a time"));
  }
  CHECK(starved.rules.counts().keywords == seed_rules().counts().keywords);  // no pattern was dropped

  const auto normal = seed_rules().scan_script(kCoinhiveLoader);
  const auto fallback = starved.rules.scan_script(kCoinhiveLoader);
  CHECK_FALSE(normal.fallback_used);
  CHECK(fallback.fallback_used);
  CHECK_THAT(fallback.fallback_reason, Catch::Contains("memory budget"));
  CHECK(fallback.miner_signal());  // exhausting the budget never hides a miner
  REQUIRE(fallback.hits.size() == normal.hits.size());
  for (std::size_t i = 0; i < normal.hits.size(); ++i) {
    CHECK(fallback.hits[i].pattern == normal.hits[i].pattern);
    CHECK(fallback.hits[i].count == normal.hits[i].count);
  }
  CHECK(fallback.score == Approx(normal.score));

  const auto url = starved.rules.match_script_url("https://evil.example/js/coinhive.min.js");
  CHECK(url.fallback_used);
  CHECK(url.patterns == std::vector<std::string>{"/coinhive\\.min\\.js(?:[?#]|$)"});
  CHECK(starved.rules.match_script_url("https://example.org/app.js").patterns.empty());
}

TEST_CASE("script URL and WebSocket URL patterns", "[rules]") {
  const auto& rules = seed_rules();
  struct Row {
    const char* url;
    bool script_listed;
    bool ws_listed;
  };
  const Row rows[] = {
      {"https://coinhive.com/lib/coinhive.min.js", true, false},
      {"https://example.org/assets/coinhive.min.js#x", true, false},
      {"https://example.org/assets/coinhive.min.json", false, false},
      {"https://example.org/js/deepMiner.js", true, false},
      {"https://example.org/js/deepminer.js", false, false},  // case matters in paths
      {"https://example.org/lib/crlt.js", true, false},
      {"https://example.org/m.js?proxy=wss://pool.example:8892", true, false},
      {"https://example.org/app.js?ref=miner", false, false},
      {"wss://ws001.coinhive.com/proxy", false, true},
      {"wss://ws12.coin-hive.com/proxy", false, true},
      {"wss://relay.example.org/wproxy", false, true},
      {"wss://relay.example.org/wproxy2", false, false},
      {"wss://pool.supportxmr.com:443/", false, true},
      {"wss://notsupportxmr.com/", false, false},
      {"wss://chat.example.org/proxy", false, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.url);
    CHECK(!rules.match_script_url(row.url).patterns.empty() == row.script_listed);
    CHECK(!rules.match_ws_url(row.url).patterns.empty() == row.ws_listed);
  }
}

TEST_CASE("hosts: subdomains are covered down to the registrable domain, allow entries win", "[rules]") {
  const auto rules = domain_rules(
      "%format 1\n"
      "coinhive.com            # line 2\n"
      "ws.crypto-loot.com\n"
      "evil.github.io\n"
      "amazonaws.com\n"
      "cdn.example.net\n"
      "@@safe.coinhive.com\n"
      "@@example.net\n"
      "minero.cc\n"
      "@@minero.cc\n");
  struct Row {
    const char* host;
    Listing listing;
    const char* rule;
  };
  const Row rows[] = {
      {"coinhive.com", Listing::blacklisted, "coinhive.com"},
      {"ws001.coinhive.com", Listing::blacklisted, "coinhive.com"},
      {"a.b.c.coinhive.com", Listing::blacklisted, "coinhive.com"},
      {"WS001.CoinHive.COM.", Listing::blacklisted, "coinhive.com"},
      {"coinhive.com.evil.net", Listing::none, ""},
      {"notcoinhive.com", Listing::none, ""},
      {"com", Listing::none, ""},
      {"ws.crypto-loot.com", Listing::blacklisted, "ws.crypto-loot.com"},
      {"x.ws.crypto-loot.com", Listing::blacklisted, "ws.crypto-loot.com"},
      {"crypto-loot.com", Listing::none, ""},  // a parent of an entry is not covered
      {"a.evil.github.io", Listing::blacklisted, "evil.github.io"},
      {"good.github.io", Listing::none, ""},  // github.io is a public suffix
      {"www.amazonaws.com", Listing::blacklisted, "amazonaws.com"},
      {"bucket.s3.amazonaws.com", Listing::none, ""},  // its own registrable domain (s3.amazonaws.com
      {"s3.amazonaws.com", Listing::none, ""},         // is a public suffix)
      {"safe.coinhive.com", Listing::allowed, "@@safe.coinhive.com"},
      {"x.safe.coinhive.com", Listing::allowed, "@@safe.coinhive.com"},
      {"cdn.example.net", Listing::allowed, "@@example.net"},  // an allowed parent wins over a listed child
      {"minero.cc", Listing::allowed, "@@minero.cc"},          // both on the same name: allow wins
      {"192.0.2.1", Listing::none, ""},
      {"", Listing::none, ""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.host);
    const auto match = rules.match_host(row.host);
    CHECK(match.listing == row.listing);
    CHECK(match.rule == row.rule);
  }
  CHECK(rules.match_host("ws001.coinhive.com").where == "domains.txt:2");
  CHECK(rules.match_host("safe.coinhive.com").where == "domains.txt:7");
  CHECK(rules.match_host(std::string(300, 'a') + ".coinhive.com").listing == Listing::none);
  CHECK(Rules().match_host("coinhive.com").listing == Listing::none);
}

TEST_CASE("domains.txt entries that are refused, with the reason", "[rules]") {
  struct Row {
    const char* line;
    const char* problem;
  };
  const Row rows[] = {
      {"github.io", "public suffix"},
      {"duckdns.org", "public suffix"},
      {"com", "public suffix"},
      {"https://coinhive.com/lib/", "write only its host ('coinhive.com')"},
      {"||coinhive.com^$third-party", "Adblock Plus syntax"},
      {"*.coinhive.com", "no wildcard needed"},
      {"0.0.0.0 coinhive.com", "one host per line"},
      {"hashbag.cc:8688", "no port"},
      {"192.0.2.1", "put it in ips.txt"},
      {"2001:db8::1", "put it in ips.txt"},
      {"myètherwället.com", "punycode"},
      {"coin$hive.com", "contains '$'"},
      {"a..b.com", "empty label"},
      {"@@", "not a valid host name"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.line);
    const auto loaded = Rules::from_text(RuleTexts{{}, {}, {}, std::string(row.line) + "\n", {}});
    REQUIRE(loaded.problems.size() == 1);
    CHECK(loaded.problems[0].line == 1);
    CHECK_THAT(loaded.problems[0].reason, Catch::Contains(row.problem));
  }
  const auto duplicated = Rules::from_text(RuleTexts{{}, {}, {}, "coinhive.com\nCoinHive.com.\n@@coinhive.com\n", {}});
  REQUIRE(duplicated.problems.size() == 1);
  CHECK(blacklist::to_string(duplicated.problems[0]) == "domains.txt:2: duplicate of line 1; skipped");
}

TEST_CASE("IPs: v4 and v6 addresses and CIDR ranges, most specific reported, allow wins", "[rules]") {
  const auto rules = ip_rules(
      "192.0.2.0/24\n"
      "192.0.2.128/25\n"
      "198.51.100.7          # one host\n"
      "2001:db8::/32\n"
      "2001:db8:1::5\n"
      "@@192.0.2.200\n"
      "@@2001:db8:ffff::/48\n"
      "10.0.0.0/8\n");
  struct Row {
    const char* address;
    Listing listing;
    const char* rule;
  };
  const Row rows[] = {
      {"192.0.2.0", Listing::blacklisted, "192.0.2.0/24"},
      {"192.0.2.127", Listing::blacklisted, "192.0.2.0/24"},
      {"192.0.2.128", Listing::blacklisted, "192.0.2.128/25"},
      {"192.0.2.255", Listing::blacklisted, "192.0.2.128/25"},
      {"192.0.3.0", Listing::none, ""},
      {"192.0.1.255", Listing::none, ""},
      {"192.0.2.200", Listing::allowed, "@@192.0.2.200"},
      {"198.51.100.7", Listing::blacklisted, "198.51.100.7"},
      {"198.51.100.8", Listing::none, ""},
      {"10.255.255.255", Listing::blacklisted, "10.0.0.0/8"},
      {"11.0.0.0", Listing::none, ""},
      {"::ffff:192.0.2.5", Listing::blacklisted, "192.0.2.0/24"},
      {"2001:db8::1", Listing::blacklisted, "2001:db8::/32"},
      {"2001:0db8:abcd::1", Listing::blacklisted, "2001:db8::/32"},
      {"[2001:db8:1::5]", Listing::blacklisted, "2001:db8:1::5"},
      {"2001:db8:1::5%eth0", Listing::blacklisted, "2001:db8:1::5"},
      {"2001:db8:ffff::9", Listing::allowed, "@@2001:db8:ffff::/48"},
      {"2001:db9::1", Listing::none, ""},
      {"::1", Listing::none, ""},
      {"coinhive.com", Listing::none, ""},
      {"", Listing::none, ""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.address);
    const auto match = rules.match_ip(row.address);
    CHECK(match.listing == row.listing);
    CHECK(match.rule == row.rule);
  }
  CHECK(rules.match_ip("192.0.2.1").where == "ips.txt:1");
  const auto counts = rules.counts();
  CHECK(counts.blacklisted_ip_ranges == 6);
  CHECK(counts.allowed_ip_ranges == 2);
}

TEST_CASE("ips.txt entries that are refused, with the reason", "[rules]") {
  struct Row {
    const char* line;
    const char* problem;
  };
  const Row rows[] = {
      {"10.0.0.1/8", "host bits set; did you mean 10.0.0.0/8?"},
      {"2001:db8::1/32", "did you mean 2001:db8::/32?"},
      {"192.0.2.0/33", "bad prefix length"},
      {"192.0.2.0/0", "bad prefix length"},
      {"192.0.2.0/abc", "bad prefix length"},
      {"300.1.1.1", "expected an IPv4 or IPv6 address"},
      {"coinhive.com", "expected an IPv4 or IPv6 address"},
      {"::ffff:192.0.2.1", "write it as IPv4 (192.0.2.1)"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.line);
    const auto loaded = Rules::from_text(RuleTexts{{}, {}, {}, {}, std::string(row.line) + "\n"});
    REQUIRE(loaded.problems.size() == 1);
    CHECK(loaded.problems[0].file == "ips.txt");
    CHECK_THAT(loaded.problems[0].reason, Catch::Contains(row.problem));
  }
}

TEST_CASE("host_of and registrable_domain", "[rules]") {
  const std::pair<const char*, const char*> hosts[] = {
      {"https://WS001.coinhive.com:443/proxy", "ws001.coinhive.com"},
      {"wss://ws001.coinhive.com/proxy?x=1", "ws001.coinhive.com"},
      {"https://user:pw@example.org./a", "example.org"},
      {"blob:https://a.example/0f1e", "a.example"},
      {"wss://[2001:db8::1]:8080/", "2001:db8::1"},
      {"http://192.0.2.1:8080", "192.0.2.1"},
      {"//cdn.example.net/x.js", "cdn.example.net"},
      {"https://example.org?q", "example.org"},
      {"data:text/javascript,1", ""},
      {"about:blank", ""},
      {"/relative/path.js", ""},
      {"", ""},
  };
  for (const auto& [url, host] : hosts) {
    CAPTURE(url);
    CHECK(blacklist::host_of(url) == host);
  }
  const std::pair<const char*, const char*> domains[] = {
      {"ws001.coinhive.com", "coinhive.com"},
      {"a.b.bbc.co.uk", "bbc.co.uk"},
      {"x.evil.github.io", "evil.github.io"},
      {"github.io", ""},
      {"192.0.2.1", ""},
      {"", ""},
  };
  for (const auto& [host, domain] : domains) {
    CAPTURE(host);
    CHECK(blacklist::registrable_domain(host) == domain);
  }
}
