// db/visit_record.cpp — see visit_record.hpp.
#include "db/visit_record.hpp"

#include <algorithm>

namespace db {
namespace {

constexpr std::string_view kWebSocketEndpointKind = "ws_endpoint";

nlohmann::json cpu_samples_json(const std::vector<blacklist::CpuSample>& samples) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& sample : samples)
    out.push_back(
        {{"t_seconds", sample.t_seconds}, {"cpu_seconds", sample.cpu_seconds}, {"wait_seconds", sample.wait_seconds}});
  return out;
}

}  // namespace

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

VisitRecord make_visit_record(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement) {
  VisitRecord record;
  record.evidence = blacklist::to_json(evidence, judgement);
  record.evidence_text = dump_json(record.evidence);
  record.cpu_samples_text = dump_json(cpu_samples_json(evidence.cpu_samples));
  for (const auto& offender : judgement.offenders) {
    blacklist::Offender entry{offender.kind, offender.kind == kWebSocketEndpointKind
                                                 ? blacklist::endpoint_key(offender.value)
                                                 : offender.value};
    if (!entry.value.empty() &&
        std::find(record.offenders.begin(), record.offenders.end(), entry) == record.offenders.end())
      record.offenders.push_back(std::move(entry));
  }
  return record;
}

std::string VisitRecord::entry_evidence(std::int64_t visit_id) const {
  return dump_json({{"visit_id", visit_id}, {"reasons", evidence.at("reasons")}});
}

std::vector<std::string> split_names(std::string_view names) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start <= names.size();) {
    const auto end = std::min(names.find('\n', start), names.size());
    if (end > start) out.emplace_back(names.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace db
