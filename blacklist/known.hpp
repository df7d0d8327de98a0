// blacklist/known.hpp — the database blacklist as the rules see it: a read-only snapshot of the
// entries earlier visits and imports wrote, taken before a visit (db::Store::known_entries).
//
// Two shapes of value share a kind. What the crawl records is exact: a page or script URL, a
// WebSocket endpoint without query and fragment ("wss://pool.example/ws"), a host. What imports
// record for script_url, ws_endpoint and allow are patterns without a scheme, "host" or
// "host/path-prefix", covering the host's subdomains too (blacklist/list_import.hpp); script_path
// is a substring of a script URL on any host. Pure lookups, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace blacklist {

struct KnownEntries {
  std::unordered_set<std::string> pages;
  std::unordered_set<std::string> script_urls;   // exact URLs
  std::unordered_set<std::string> ws_endpoints;  // exact endpoints (endpoint_key)
  std::unordered_set<std::string> domains;
  std::unordered_set<std::string> ips;
  std::unordered_set<std::string> wasm_sha256;
  std::unordered_set<std::string> allow;  // hosts (and exact URLs) that are never known
  // Imported patterns: host → path prefixes ("" for the whole host).
  std::unordered_map<std::string, std::vector<std::string>> script_patterns;
  std::unordered_map<std::string, std::vector<std::string>> ws_patterns;
  std::unordered_map<std::string, std::vector<std::string>> allow_patterns;
  std::vector<std::string> script_paths;  // lower-case substrings of script URLs

  // Files a store row under its kind and shape. Unknown kinds are ignored.
  void add(std::string_view kind, std::string value);

  bool empty() const;

  // The listed domain covering `host` (the host itself or a parent), or empty. An allow entry for
  // the host or a parent wins and yields empty.
  std::string domain_covering(std::string_view host) const;
  // The entry listing this script URL (exact, host/path pattern, or path substring), or empty.
  std::string script_listed(std::string_view url) const;
  // The entry listing this WebSocket URL (exact endpoint or host/path pattern), or empty.
  std::string socket_listed(std::string_view url) const;
  // Whether an allow entry (host, parent host, host/path pattern, or the exact URL) covers `url`.
  bool allowed(std::string_view url) const;
};

// The key under which a WebSocket endpoint is stored: `url` cut at the first '?' or '#'.
std::string endpoint_key(std::string_view url);

}  // namespace blacklist
