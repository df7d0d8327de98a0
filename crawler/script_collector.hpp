// crawler/script_collector.hpp — the scripts and WebAssembly modules of one visit: recorded as
// Chrome parses them, their sources read out of Chrome, scanned, and dropped.
//
// Every Debugger.scriptParsed becomes a ScriptRecord (bounded: limits.max_scripts). A source is read
// (Debugger.getScriptSource) unless it is a JavaScript source over the size cap (`oversize`), one
// already read on this visit (`duplicate`, by CDP's SHA-256), or one scanned on an earlier site of
// the crawl (`cached`: the ScanCache's findings are copied). One fetcher per visit drains a bounded
// queue; the bytes are decoded, measured, hashed (Wasm) and scanned off the event loop (the scanner
// thread, when given), and only the findings are kept: per-visit memory stays flat however many
// scripts come. A target that ends before its source is read took it along (`gone`); any other
// failure leaves it `unavailable`.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "blacklist/detector.hpp"
#include "blacklist/scan_cache.hpp"
#include "cdp/connection.hpp"
#include "cdp/events.hpp"
#include "crawler/visit_context.hpp"
#include "util/worker.hpp"

namespace crawler {

// What reading one source found: the pure part of the work, done off the loop.
struct SourceReading {
  enum class Outcome { scanned, oversize, over_budget } outcome = Outcome::scanned;
  std::uint64_t bytes = 0;           // the source's size (Wasm: decoded)
  std::string sha256;                // Wasm only: the hash of the decoded bytes
  blacklist::ScriptRecord findings;  // keyword and Wasm findings (no source)
};
// Decodes (Wasm: base64), bounds (`max_bytes`, `budget_left`), hashes (Wasm) and scans one source.
SourceReading read_source(const blacklist::Detector& detector, std::string text, bool wasm, std::uint64_t max_bytes,
                          std::uint64_t budget_left);

class ScriptCollector {
 public:
  struct Options {
    const blacklist::Detector* detector = nullptr;  // required
    blacklist::ScanCache* cache = nullptr;          // null: every source is read
    util::WorkerThread* scanner = nullptr;          // null: sources are scanned on the loop
  };
  ScriptCollector(VisitContext& visit, cdp::Connection& connection, Options options);

  // Debugger.scriptParsed.
  void register_events(cdp::EventRegistry& events);
  // Sources are still being read or scanned: their findings may still change the verdict.
  bool busy() const { return fetcher_running_; }
  // The connection is gone: the fetcher stops before its next source.
  void stop() { stopped_ = true; }

  // The record of the script `script_id` parsed on `session_id` (null: not recorded). A Wasm
  // module read by another target (its record says "duplicate") is answered with the record that
  // was read: the same bytes, the same findings.
  const blacklist::ScriptRecord* find(const std::string& session_id, const std::string& script_id) const;

 private:
  struct SourceFetch {
    std::string session_id;
    std::string script_id;
    std::size_t script_index;
    bool wasm;
  };
  void on_script_parsed(const cdp::TargetInfo& target, const cdp::Json& params);
  boost::asio::awaitable<void> fetch_sources();
  boost::asio::awaitable<void> read_one(SourceFetch job);
  boost::asio::awaitable<SourceReading> scan(std::string text, bool wasm);

  VisitContext& visit_;
  cdp::Connection& connection_;
  Options options_;
  std::deque<SourceFetch> queue_;
  bool fetcher_running_ = false;
  bool stopped_ = false;
  std::set<std::string> fetched_hashes_;
  std::map<std::pair<std::string, std::string>, std::size_t> by_id_;  // (session, script id) → record
  std::uint64_t source_bytes_ = 0;
};

}  // namespace crawler
