// crawler/egress_collector.cpp — see egress_collector.hpp.
#include "crawler/egress_collector.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include "util/address.hpp"

namespace crawler {

using blacklist::Status;

void collect_egress(const std::vector<cdp::EgressRecord>& records, std::uint64_t dropped, std::int64_t visit_started_ms,
                    VisitContext& visit) {
  auto& evidence = visit.evidence();
  const auto& limits = visit.limits();
  if (dropped > 0) visit.count("egress_records_dropped", dropped);
  std::map<std::pair<std::string, int>, std::size_t> blocked_at;  // host, port → blocked_connections index
  std::set<std::string> ips(evidence.remote_ips.begin(), evidence.remote_ips.end());
  for (const auto& record : records) {
    if (record.outcome == cdp::EgressOutcome::connected) {
      if (ips.contains(record.connected_ip)) continue;
      if (ips.size() >= limits.max_remote_ips) {
        visit.count("remote_ips_not_stored");
        continue;
      }
      ips.insert(record.connected_ip);
      evidence.remote_ips.push_back(record.connected_ip);
      continue;
    }
    if (record.outcome != cdp::EgressOutcome::blocked) continue;
    visit.count("network_blocked");
    const auto key = std::make_pair(record.host, static_cast<int>(record.port));
    if (auto found = blocked_at.find(key); found != blocked_at.end()) {
      ++evidence.blocked_connections[found->second].attempts;
      continue;
    }
    if (evidence.blocked_connections.size() >= limits.max_blocked_connections) {
      visit.count("blocked_not_stored");
      continue;
    }
    blacklist::BlockedConnection blocked;
    blocked.host = record.host;
    blocked.port = record.port;
    for (const auto& address : record.refused)
      blocked.addresses.push_back({address.ip, std::string(util::to_string(address.address_class))});
    blocked.why = record.why;
    blocked.attempts = 1;
    blocked.t = record.at_ms > visit_started_ms ? static_cast<double>(record.at_ms - visit_started_ms) / 1000.0 : 0.0;
    blocked_at.emplace(key, evidence.blocked_connections.size());
    evidence.blocked_connections.push_back(std::move(blocked));
  }
}

std::optional<std::pair<Status, std::string>> main_frame_egress_status(std::string_view error_text,
                                                                       const std::vector<cdp::EgressRecord>& records) {
  if (error_text.find("ERR_PROXY_CONNECTION_FAILED") != std::string_view::npos)
    return std::make_pair(Status::connection_error,
                          std::string(error_text) + " (cjcrawl's egress proxy could not take the connection)");
  if (error_text.find("ERR_SOCKS_CONNECTION_FAILED") == std::string_view::npos) return std::nullopt;
  for (auto record = records.rbegin(); record != records.rend(); ++record) {
    if (record->outcome == cdp::EgressOutcome::connected) continue;
    const std::string where = fmt::format("{}:{}", record->host, record->port);
    switch (record->outcome) {
      case cdp::EgressOutcome::blocked:
        return std::make_pair(Status::blocked, fmt::format("{} is on a private network: {}", where, record->why));
      case cdp::EgressOutcome::not_found:
        // In Chrome's own words, as a direct connection would have said it.
        return std::make_pair(Status::dns_error,
                              fmt::format("net::ERR_NAME_NOT_RESOLVED ({}: {})", where, record->why));
      case cdp::EgressOutcome::timeout:
        return std::make_pair(Status::timeout, fmt::format("{}: {}", where, record->why));
      default: return std::make_pair(Status::connection_error, fmt::format("{}: {}", where, record->why));
    }
  }
  return std::make_pair(Status::connection_error, std::string(error_text));
}

}  // namespace crawler
