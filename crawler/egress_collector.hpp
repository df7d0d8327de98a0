// crawler/egress_collector.hpp — what the egress guard saw during one visit, as evidence.
//
// Every connection a page makes leaves through the browser's egress proxy (cdp/egress_proxy), which
// keeps a journal of what it did with each request. At the end of a visit its records become
// evidence: the connections the guard refused (one entry per host and port, with the attempts
// counted: a page probing internal addresses is worth reporting by itself), and the addresses the
// visit really connected to, which are its remote IPs (Chrome behind a proxy knows only the proxy's).
// When the main frame's navigation fails at the proxy, its record says why: a private address
// (`blocked`, never retried), no such host (`dns_error`), or a refused or timed-out connection. Pure
// functions: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "blacklist/evidence.hpp"
#include "cdp/egress_proxy.hpp"
#include "crawler/visit_context.hpp"

namespace crawler {

// Adds `records` (the journal since the visit's mark; `dropped` of them were lost to its bound) to the
// visit's evidence: blocked_connections (bounded by limits.max_blocked_connections, the rest counted
// in blocked_not_stored), counters network_blocked and egress_records_dropped, and remote_ips from
// the connected records (distinct, bounded by limits.max_remote_ips).
void collect_egress(const std::vector<cdp::EgressRecord>& records, std::uint64_t dropped, std::int64_t visit_started_ms,
                    VisitContext& visit);

// The main frame's status when Page.navigate failed with `error_text` at the proxy
// (net::ERR_SOCKS_CONNECTION_FAILED, or net::ERR_PROXY_CONNECTION_FAILED when the proxy itself could
// not take the connection). Chrome reports every refusal alike, so the proxy's last record that is not
// a connection says which: nothing of the site loads before its main document commits, so that record
// is the main frame's (or its last redirect's). nullopt for any other error.
std::optional<std::pair<blacklist::Status, std::string>> main_frame_egress_status(
    std::string_view error_text, const std::vector<cdp::EgressRecord>& records);

}  // namespace crawler
