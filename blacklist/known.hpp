// blacklist/known.hpp — the database blacklist as the rules see it: a read-only snapshot of the
// entries earlier visits and imports wrote, taken before a visit (db::Store::known_entries).
//
// Pure lookups, no I/O. Values are compared as the store keeps them: pages and script URLs verbatim,
// WebSocket endpoints without query and fragment, domains and IPs in lower case.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

namespace blacklist {

struct KnownEntries {
  std::unordered_set<std::string> pages;
  std::unordered_set<std::string> script_urls;
  std::unordered_set<std::string> ws_endpoints;
  std::unordered_set<std::string> domains;
  std::unordered_set<std::string> ips;
  std::unordered_set<std::string> wasm_sha256;
  // `allow` entries: a host, or an exact page/script/socket URL, that must never be treated as known.
  std::unordered_set<std::string> allow;

  bool empty() const {
    return pages.empty() && script_urls.empty() && ws_endpoints.empty() && domains.empty() && ips.empty() &&
           wasm_sha256.empty() && allow.empty();
  }

  // The listed domain covering `host` (the host itself or a parent), or empty. An allow entry for
  // the host or a parent wins and yields empty.
  std::string domain_covering(std::string_view host) const;
};

// The key under which a WebSocket endpoint is stored: `url` cut at the first '?' or '#'.
std::string endpoint_key(std::string_view url);

}  // namespace blacklist
