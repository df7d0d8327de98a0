// crawler/script_collector.cpp — see script_collector.hpp.
#include "crawler/script_collector.hpp"

#include <spdlog/spdlog.h>

#include "cdp/commands.hpp"
#include "cdp/session.hpp"
#include "util/encoding.hpp"

namespace crawler {
namespace {

constexpr std::chrono::milliseconds kSourceFetchTimeout{15'000};

// The findings of a scan, copied into the visit's record of the script.
void copy_findings(const blacklist::ScriptRecord& from, blacklist::ScriptRecord& to) {
  to.keyword_score = from.keyword_score;
  to.keyword_miner = from.keyword_miner;
  to.keyword_hits = from.keyword_hits;
  to.scan_note = from.scan_note;
  to.wasm_fingerprinted = from.wasm_fingerprinted;
  to.wasm_miner = from.wasm_miner;
  to.wasm_score = from.wasm_score;
  to.wasm_primitives = from.wasm_primitives;
  to.wasm_summary = from.wasm_summary;
  to.wasm_hash_functions = from.wasm_hash_functions;
}

}  // namespace

SourceReading read_source(const blacklist::Detector& detector, std::string text, bool wasm, std::uint64_t max_bytes,
                          std::uint64_t budget_left) {
  SourceReading reading;
  std::string source = wasm ? util::decode_base64(text) : std::move(text);
  reading.bytes = source.size();
  if (reading.bytes > max_bytes) {
    reading.outcome = SourceReading::Outcome::oversize;
    return reading;
  }
  if (reading.bytes > budget_left) {
    reading.outcome = SourceReading::Outcome::over_budget;
    return reading;
  }
  if (wasm) reading.sha256 = util::sha256_hex(source);
  reading.findings.language = wasm ? "WebAssembly" : "JavaScript";
  reading.findings.source_state = "fetched";
  reading.findings.source = std::move(source);
  detector.examine_script(reading.findings);
  std::string().swap(reading.findings.source);  // the findings, not the bytes
  return reading;
}

ScriptCollector::ScriptCollector(VisitContext& visit, cdp::Connection& connection, Options options)
    : visit_(visit), connection_(connection), options_(options) {}

void ScriptCollector::register_events(cdp::EventRegistry& events) {
  events.on("Debugger.scriptParsed",
            [this](const cdp::TargetInfo& target, const cdp::Json& params) { on_script_parsed(target, params); });
}

void ScriptCollector::on_script_parsed(const cdp::TargetInfo& target, const cdp::Json& params) {
  const auto& limits = visit_.limits();
  auto& scripts = visit_.evidence().scripts;
  if (scripts.size() >= limits.max_scripts) {
    visit_.count("scripts_not_stored");
    return;
  }
  blacklist::ScriptRecord script;
  script.url = params.value("url", std::string());
  script.sha256 = params.value("hash", std::string());
  script.length = params.value("length", std::uint64_t{0});
  script.language = params.value("scriptLanguage", std::string("JavaScript"));
  script.target_type = target.type;
  script.target_url = target.url;
  script.start_line = params.value("startLine", 0);
  script.start_column = params.value("startColumn", 0);
  const bool wasm = script.language == "WebAssembly";
  // JS length is in UTF-16 units, at most 3 UTF-8 bytes each; the fetcher re-checks the real size.
  if (!wasm && script.length > limits.max_script_source_bytes) {
    script.source_state = "oversize";
  } else if (!wasm && !script.sha256.empty() && !fetched_hashes_.insert(script.sha256).second) {
    // (Wasm is deduplicated after fetching: Chrome 156 reports every module with the hash of the
    // empty string, so trusting it would let a decoy module hide the miner compiled after it.)
    script.source_state = "duplicate";
  } else if (options_.cache && options_.cache->recall(script)) {  // (never Wasm: ScanCache)
    visit_.count("scripts_from_cache");  // findings copied, source_state "cached"; later copies: "duplicate"
  } else if (queue_.size() >= limits.max_pending_source_fetches) {
    script.source_state = "unavailable";
    visit_.count("source_fetch_queue_full");
  } else {
    script.source_state = "pending";
    queue_.push_back({target.session_id, params.value("scriptId", std::string()), scripts.size(), wasm});
  }
  by_id_.emplace(std::make_pair(target.session_id, params.value("scriptId", std::string())), scripts.size());
  scripts.push_back(std::move(script));
  if (!queue_.empty() && !fetcher_running_) {
    fetcher_running_ = true;
    visit_.spawn(fetch_sources());
  }
}

// One fetcher at a time drains the bounded queue of sources to read.
asio::awaitable<void> ScriptCollector::fetch_sources() {
  while (!queue_.empty() && !stopped_) {
    SourceFetch job = std::move(queue_.front());
    queue_.pop_front();
    co_await read_one(std::move(job));
  }
  fetcher_running_ = false;
  visit_.notify();
}

asio::awaitable<void> ScriptCollector::read_one(SourceFetch job) {
  const cdp::Session session(connection_, job.session_id);
  const cdp::DebuggerGetScriptSource get_source{job.script_id};
  auto reply = co_await session.send(get_source, kSourceFetchTimeout);
  if (!reply) {
    // A target that ended first (a worker that finished its task, a closed popup) took the source
    // with it, and nothing it loaded can run any more: "gone" asks for no watching, where
    // "unavailable" watches until the deadline (measured: a worker that compiled Wasm, hashed a
    // password for 1.5 s and ended held a clean page to its 30 s deadline in one visit of three).
    // A miner gains nothing by it: to mine it must keep a target alive, whose sources are read.
    const bool gone = cdp::target_gone(reply.error());
    visit_.evidence().scripts[job.script_index].source_state = gone ? "gone" : "unavailable";
    visit_.count(gone ? "source_target_gone" : "source_fetch_failed");
    co_return;
  }
  std::string text = job.wasm ? std::move(reply->bytecode_base64) : std::move(reply->script_source);
  auto reading = co_await scan(std::move(text), job.wasm);
  // (By index: the record vector may have grown while the source was read.)
  auto& script = visit_.evidence().scripts[job.script_index];
  if (reading.outcome == SourceReading::Outcome::oversize) {
    script.source_state = "oversize";
    co_return;
  }
  if (reading.outcome == SourceReading::Outcome::over_budget) {
    script.source_state = "unavailable";
    visit_.count("source_budget_exhausted");
    co_return;
  }
  if (job.wasm) {
    script.sha256 = reading.sha256;
    if (!fetched_hashes_.insert(script.sha256).second) {
      script.source_state = "duplicate";
      co_return;
    }
  }
  source_bytes_ += reading.bytes;
  copy_findings(reading.findings, script);
  script.source_state = "fetched";
  if (options_.cache) options_.cache->remember(script);
}

const blacklist::ScriptRecord* ScriptCollector::find(const std::string& session_id,
                                                     const std::string& script_id) const {
  const auto found = by_id_.find({session_id, script_id});
  if (found == by_id_.end()) return nullptr;
  const auto& scripts = visit_.evidence().scripts;
  const blacklist::ScriptRecord& script = scripts[found->second];
  if (script.language != "WebAssembly" || script.source_state != "duplicate") return &script;
  for (const auto& other : scripts)
    if (other.source_state == "fetched" && other.sha256 == script.sha256) return &other;
  return &script;
}

asio::awaitable<SourceReading> ScriptCollector::scan(std::string text, bool wasm) {
  const auto& limits = visit_.limits();
  const std::uint64_t budget_left =
      limits.max_total_source_bytes > source_bytes_ ? limits.max_total_source_bytes - source_bytes_ : 0;
  auto job = [detector = options_.detector, text = std::move(text), wasm, max_bytes = limits.max_script_source_bytes,
              budget_left]() mutable { return read_source(*detector, std::move(text), wasm, max_bytes, budget_left); };
  if (!options_.scanner) co_return job();
  auto reading = co_await options_.scanner->run(std::move(job));
  co_return reading;
}

}  // namespace crawler
