// blacklist/scan_cache.hpp — keyword-scan findings remembered by script content, across the visits
// of one crawl.
//
// The web reuses scripts: the same jQuery, analytics or ad-library build is served by thousands of
// sites, often from their own paths. CDP names every parsed script's content with a SHA-256
// (`Debugger.scriptParsed`'s `hash`: "Content hash of the script, SHA-256", js_protocol.json; a
// page cannot make its miner share a hash with a scanned library without a SHA-256 collision), so
// a script whose content was scanned on an earlier site need not be read out of Chrome and scanned
// again: its findings are copied, and the record says `cached`. Same hash, same bytes, same
// findings, as long as the rules do not change, so a cache lives no longer than the Detector it
// serves (one crawl run). JavaScript only: Chrome 156 reports every Wasm module with the hash of
// the empty string (CDP-NOTES), so Wasm is always read. Bounded: the least recently used entry
// goes first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "blacklist/evidence.hpp"

namespace blacklist {

class ScanCache {
 public:
  explicit ScanCache(std::size_t capacity) : capacity_(capacity) {}
  ScanCache(const ScanCache&) = delete;  // the index views the entries' own keys
  ScanCache& operator=(const ScanCache&) = delete;

  // Fills `script`'s keyword findings from an earlier scan of the same content and marks it
  // "cached". False (and `script` untouched) when the content was not scanned before.
  bool recall(ScriptRecord& script);

  // Remembers the findings of a JavaScript source scanned in full (source_state "fetched").
  void remember(const ScriptRecord& script);

  std::size_t size() const { return entries_.size(); }
  std::uint64_t hits() const { return hits_; }

  // A SHA-256 in hex, as CDP writes it: anything else is never a key.
  static bool valid_key(std::string_view sha256);

 private:
  struct Findings {
    std::string sha256;
    double keyword_score = 0;
    bool keyword_miner = false;
    std::vector<ScriptRecord::KeywordCount> keyword_hits;
    std::string scan_note;
  };
  std::size_t capacity_;
  std::list<Findings> entries_;                                                // most recently used first
  std::unordered_map<std::string_view, std::list<Findings>::iterator> index_;  // keys view entries_
  std::uint64_t hits_ = 0;
};

}  // namespace blacklist
