// db/visit_record.hpp — what every store writes for one visit, made before any SQL runs (so a
// writer holds its lock briefly, and both backends store the same bytes): the evidence JSON, the raw
// CPU samples, the offenders to blacklist (each once; socket endpoints keyed without query and
// fragment), and each entry's evidence. Also the one JSON dump the stores use and the split of a
// newline-joined list of source names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "blacklist/evidence.hpp"
#include "blacklist/known.hpp"

namespace db {

// JSON as the stores keep it: compact, and page strings that are not UTF-8 (titles, frame payloads,
// URLs) with their invalid bytes replaced by U+FFFD (nlohmann's default dump would throw).
std::string dump_json(const nlohmann::json& value);

struct VisitRecord {
  nlohmann::json evidence;       // blacklist::to_json(evidence, judgement)
  std::string evidence_text;     // dumped
  std::string cpu_samples_text;  // the raw samples, so a stored visit can be judged again by a changed rule
  std::vector<blacklist::Offender> offenders;
  // {"visit_id": ..., "reasons": [...]}: what an entry the visit names keeps as its latest evidence.
  std::string entry_evidence(std::int64_t visit_id) const;
};

VisitRecord make_visit_record(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement);

// "a\nb" → {"a", "b"} (empty names dropped).
std::vector<std::string> split_names(std::string_view names);

}  // namespace db
