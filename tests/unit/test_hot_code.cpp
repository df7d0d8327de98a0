// tests/unit/test_hot_code.cpp — CPU blamed on code, without a browser: a V8 profile folded into
// functions, hot Wasm functions located in the corpus builds' hash code, JavaScript judged by its
// operators, and the verdicts hot code makes.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "blacklist/detector.hpp"
#include "blacklist/hot_code.hpp"
#include "blacklist/wasm.hpp"
#include "cdp/commands.hpp"
#include "crawler/report.hpp"

using namespace blacklist;

namespace {

const std::string kBuilds = std::string(CJCRAWL_SOURCE_DIR) + "/tests/fixtures/wasm/builds/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// A module as the script collector leaves it after the Detector examined its bytes.
ScriptRecord examined_module(const std::string& file) {
  ScriptRecord module;
  module.language = "WebAssembly";
  module.source_state = "fetched";
  module.source = read_file(kBuilds + file);
  module.sha256 = file;
  Detector().examine_script(module);
  module.source.clear();
  return module;
}

const CpuRule kRule{10, 50, 0.9};

Evidence busy_page(double percent) {
  Evidence evidence;
  evidence.url = evidence.final_url = "https://victim.example/";
  evidence.cpu_samples.push_back({0, 0});
  for (int i = 0; i < 10; ++i)
    evidence.cpu_samples.push_back(
        {evidence.cpu_samples.back().t_seconds + 0.2, evidence.cpu_samples.back().cpu_seconds + percent / 500});
  return evidence;
}

Judgement judge(const Evidence& evidence) {
  return Detector().judge(evidence, kRule, decide(kRule, evidence.cpu_samples, kRule.window));
}

HotCodeRecord hot(std::string code, double share, std::string function = "wasm-function[9]") {
  HotCodeRecord record;
  record.target_type = "worker";
  record.target_url = "https://victim.example/w.js";
  record.language = "WebAssembly";
  record.script_url = "https://victim.example/core.wasm";
  record.wasm_sha256 = "c0ffee";
  record.function = std::move(function);
  record.share = share;
  record.code = std::move(code);
  return record;
}

bool has_offender(const Judgement& judgement, const std::string& kind, const std::string& value) {
  return std::find(judgement.offenders.begin(), judgement.offenders.end(), Offender{kind, value}) !=
         judgement.offenders.end();
}

}  // namespace

TEST_CASE("a V8 profile folds into functions with their self samples", "[hot_code][cdp]") {
  const auto reply = cdp::Json::parse(R"json({"profile": {
    "nodes": [
      {"id": 1, "callFrame": {"functionName": "(root)", "scriptId": "0", "url": "", "lineNumber": -1, "columnNumber": -1}},
      {"id": 2, "callFrame": {"functionName": "(idle)", "scriptId": "0", "url": "", "lineNumber": -1, "columnNumber": -1}},
      {"id": 3, "callFrame": {"functionName": "tick", "scriptId": "3", "url": "https://a.test/w.js", "lineNumber": 2, "columnNumber": 13}},
      {"id": 4, "callFrame": {"functionName": "wasm-function[9]", "scriptId": "5", "url": "https://a.test/c.wasm", "lineNumber": 0, "columnNumber": 8305}},
      {"id": 5, "callFrame": {"functionName": "wasm-function[9]", "scriptId": "5", "url": "https://a.test/c.wasm", "lineNumber": 0, "columnNumber": 8305}}
    ],
    "startTime": 1000000, "endTime": 2000000,
    "samples": [2, 2, 4, 5, 4, 3, 2, 2, 2, 99, "x"]}})json");
  const auto profile = cdp::ProfilerStop::parse(reply);
  CHECK(profile.total_samples == 11);  // idle and unknown nodes count in the wall time
  CHECK(profile.duration_seconds == Approx(1.0));
  REQUIRE(profile.functions.size() == 2);
  CHECK(profile.functions[0].function_name == "wasm-function[9]");  // two call paths, one function
  CHECK(profile.functions[0].samples == 3);
  CHECK(profile.functions[0].column == 8305);
  CHECK(profile.functions[1].function_name == "tick");
  CHECK(profile.functions[1].samples == 1);
  CHECK_FALSE(profile.truncated);
}

TEST_CASE("every miner build's main loop is located as mining-hash code, and benign hash code only as a hash",
          "[hot_code][wasm][corpus]") {
  std::ifstream in(kBuilds + "MANIFEST.tsv");
  std::string line;
  std::getline(in, line);
  int miners = 0;
  int benign_with_hash_code = 0;
  while (std::getline(in, line)) {
    const std::string file = line.substr(0, line.find('\t'));
    const bool miner = line.find("\tminer\t") != std::string::npos;
    INFO(file);
    const ScriptRecord module = examined_module(file);
    REQUIRE(module.wasm_fingerprinted);
    const auto print = wasm::fingerprint(read_file(kBuilds + file));
    if (miner) {
      ++miners;
      // The scratchpad loop, where a miner spends its time, is found by a sample's byte offset
      // anywhere in its body.
      const auto loop = std::find_if(module.wasm_hash_functions.begin(), module.wasm_hash_functions.end(),
                                     [&](const WasmHashFunction& f) { return f.index == print.scratchpad_function; });
      REQUIRE(loop != module.wasm_hash_functions.end());
      CHECK(loop->what.starts_with("CryptoNight main loop"));
      for (std::uint32_t offset : {loop->begin, loop->begin + (loop->end - loop->begin) / 2, loop->end - 1})
        CHECK(judge_wasm_code(module, offset).kind == CodeKind::mining_hash);
    } else {
      for (const auto& function : module.wasm_hash_functions) {
        CHECK(judge_wasm_code(module, function.begin).kind == CodeKind::hash);
        ++benign_with_hash_code;
      }
    }
  }
  CHECK(miners == 100);
  CHECK(benign_with_hash_code > 0);  // the checksums and password hashers do have hash code
}

TEST_CASE("a Wasm sample outside the hash code is not a hash, and in an unread module unknown", "[hot_code][wasm]") {
  const ScriptRecord module = examined_module("chess.emcc.O2.wasm");
  REQUIRE(module.wasm_fingerprinted);
  std::uint32_t outside = 0;  // a byte in no hash function's body
  while (std::any_of(module.wasm_hash_functions.begin(), module.wasm_hash_functions.end(),
                     [&](const WasmHashFunction& f) { return outside + 5 >= f.begin && outside < f.end; }))
    ++outside;
  CHECK(judge_wasm_code(module, outside).kind == CodeKind::not_hash);
  ScriptRecord unread = module;
  unread.source_state = "unavailable";
  CHECK(judge_wasm_code(unread, outside).kind == CodeKind::unknown);
}

TEST_CASE("JavaScript is judged by its operators, since hashing is bitwise work", "[hot_code][js]") {
  const std::string source =
      "// a page\n"
      "const s = 'x ^ y ^ z ^ {';\n"
      "function mix(v, k) {\n"
      "  for (let i = 0; i < 24; i++) {\n"
      "    v[0] ^= (v[1] << 7 | v[1] >>> 25) ^ k[i];  v[1] ^= (v[2] << 9 | v[2] >>> 23) & 0xff;\n"
      "    v[2] ^= (v[3] << 13 | v[3] >>> 19) ^ ~v[0]; v[3] ^= (v[0] << 18 | v[0] >>> 14) ^ v[2];\n"
      "    v[0] = v[0] ^ v[3] >>> 0; v[1] = (v[1] ^ v[0]) >>> 0; /* a } in a comment */\n"
      "  }\n"
      "}\n"
      "function step(bodies, dt) {\n"
      "  for (const b of bodies) { b.vy += 9.81 * dt; b.x += b.vx * dt; b.y += b.vy * dt;\n"
      "    if (b.y > 100) { b.y = 100 - (b.y - 100); b.vy = -b.vy * 0.8; } }\n"
      "  return bodies.length > 0 && dt < 1 ? bodies : [];\n"
      "}\n"
      "function asm(x, y) { x = x|0; y = y|0; return (x + y)|0; }\n";
  // V8 places a function at its parameter list: line 2 (0-based), column 12 is "(v, k)".
  const auto mix = measure_js_function(source, 2, 12);
  CHECK(mix.found);
  CHECK(mix.complete);
  CHECK(judge_js_code(mix).kind == CodeKind::hash);
  const auto step = measure_js_function(source, 9, 13);
  CHECK(step.complete);
  CHECK(step.bitwise == 0);
  CHECK(judge_js_code(step).kind == CodeKind::not_hash);
  const auto coercions = measure_js_function(source, 14, 12);  // asm.js's `|0` is a type, not work
  CHECK(coercions.bitwise == 0);
  CHECK_FALSE(measure_js_function(source, 99, 0).found);
  CHECK(judge_js_code(measure_js_function(source, 99, 0)).kind == CodeKind::unknown);

  // An unterminated function is read to the bound, not beyond.
  const std::string endless = "function f() {" + std::string(200'000, '^');
  const auto bounded = measure_js_function(endless, 0, 10);
  CHECK_FALSE(bounded.complete);
  CHECK(bounded.bytes <= kMaxJsFunctionBytes);
}

TEST_CASE("hot mining-hash code is cryptojacking however throttled, and busy code that is not a hash weakens CPU",
          "[hot_code][detector]") {
  SECTION("a throttled miner: 12% of a core in a mining module, CPU rule silent") {
    auto evidence = busy_page(20);
    evidence.hot_code.push_back(hot("mining hash", 0.12));
    const auto judgement = judge(evidence);
    CHECK(judgement.verdict == Verdict::cryptojacking);
    CHECK(judgement.confidence == kConfidenceHotMiningCode);
    CHECK(has_offender(judgement, "wasm_sha256", "c0ffee"));
    CHECK(has_offender(judgement, "script_url", "https://victim.example/w.js"));  // the worker that ran it
  }
  SECTION("with the CPU rule as well") {
    auto evidence = busy_page(99);
    evidence.hot_code.push_back(hot("mining hash", 0.9));
    CHECK(judge(evidence).confidence == kConfidenceCpuAndWasm);
  }
  SECTION("a trace of mining code is not enough") {
    auto evidence = busy_page(20);
    evidence.hot_code.push_back(hot("mining hash", 0.04));
    CHECK(judge(evidence).verdict == Verdict::clean);
  }
  SECTION("two rounds are not added up") {
    auto evidence = busy_page(20);
    evidence.hot_code.push_back(hot("mining hash", 0.05));
    evidence.hot_code.push_back(hot("mining hash", 0.05));
    evidence.hot_code.back().round = 2;
    CHECK(judge(evidence).verdict == Verdict::clean);
  }
  SECTION("a hash outside mining structure (a checksum, a password hasher) leaves CPU alone as it was") {
    auto evidence = busy_page(99);
    evidence.hot_code.push_back(hot("hash", 0.95));
    const auto judgement = judge(evidence);
    CHECK(judgement.verdict == Verdict::suspicious);
    CHECK(judgement.confidence == kConfidenceCpuAlone);
  }
  SECTION("a physics step is plainly not a hash: CPU alone weakens") {
    auto evidence = busy_page(99);
    auto step = hot("not a hash", 0.9, "step");
    step.language = "JavaScript";
    step.wasm_sha256.clear();
    evidence.hot_code.push_back(step);
    const auto judgement = judge(evidence);
    CHECK(judgement.verdict == Verdict::suspicious);
    CHECK(judgement.confidence == kConfidenceCpuNotHash);
    CHECK(judgement.offenders.empty());
  }
}

TEST_CASE("the human summary shows the hot code, with a page's names made safe for a terminal", "[hot_code][report]") {
  auto evidence = busy_page(20);
  evidence.hot_code.push_back(hot("mining hash", 0.21, "wasm-function[9]"));
  auto hostile = hot("not a hash", 0.05, "\x1b]0;owned\x07step");
  hostile.language = "JavaScript";
  hostile.script_url = "https://victim.example/game.js";
  evidence.hot_code.push_back(hostile);
  const auto judgement = judge(evidence);
  const auto summary = crawler::human_summary(evidence, judgement, kRule, decide(kRule, evidence.cpu_samples, 10));
  INFO(summary);
  CHECK(summary.find("Hot code   21% wasm-function[9] (module c0ffee in a worker): mining hash") != std::string::npos);
  CHECK(summary.find("(https://victim.example/game.js in a worker): not a hash") != std::string::npos);
  CHECK(summary.find('\x1b') == std::string::npos);
  CHECK(summary.find('\x07') == std::string::npos);
}
