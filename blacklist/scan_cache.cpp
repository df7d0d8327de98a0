// blacklist/scan_cache.cpp — see scan_cache.hpp.
#include "blacklist/scan_cache.hpp"

#include <algorithm>

namespace blacklist {

bool ScanCache::valid_key(std::string_view sha256) {
  return sha256.size() == 64 && std::all_of(sha256.begin(), sha256.end(),
                                            [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool ScanCache::recall(ScriptRecord& script) {
  if (script.language != "JavaScript") return false;
  const auto found = index_.find(script.sha256);
  if (found == index_.end()) return false;
  entries_.splice(entries_.begin(), entries_, found->second);
  const Findings& findings = *found->second;
  script.keyword_score = findings.keyword_score;
  script.keyword_miner = findings.keyword_miner;
  script.keyword_hits = findings.keyword_hits;
  script.scan_note = findings.scan_note;
  script.source_state = "cached";
  ++hits_;
  return true;
}

void ScanCache::remember(const ScriptRecord& script) {
  if (capacity_ == 0 || script.language != "JavaScript" || script.source_state != "fetched" ||
      !valid_key(script.sha256) || index_.contains(script.sha256))
    return;
  if (entries_.size() == capacity_) {
    index_.erase(entries_.back().sha256);
    entries_.pop_back();
  }
  entries_.push_front(
      {script.sha256, script.keyword_score, script.keyword_miner, script.keyword_hits, script.scan_note});
  index_.emplace(entries_.front().sha256, entries_.begin());
}

}  // namespace blacklist
