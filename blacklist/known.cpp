// blacklist/known.cpp — lookups in the database blacklist snapshot.
#include "blacklist/known.hpp"

#include <algorithm>
#include <cctype>

#include "blacklist/rules.hpp"
#include "util/text.hpp"

namespace blacklist {
namespace {

// The path (with query) of an absolute URL, lower case: "https://h/a/B?x" → "/a/b?x".
std::string path_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const auto slash = url.find('/', scheme + 3);
  if (slash == std::string_view::npos) return "/";
  return util::to_lower(url.substr(slash, url.find('#', slash) - slash));
}

// Calls `visit(host_or_parent)` from the host up to its top label; stops when it returns true.
template <class Visit>
bool for_each_parent(std::string_view host, Visit visit) {
  for (std::string_view rest = host; !rest.empty();) {
    if (visit(rest)) return true;
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return false;
}

// A host/path-prefix pattern table lookup: the pattern that covers `url`, or empty.
std::string pattern_covering(const std::unordered_map<std::string, std::vector<std::string>>& patterns,
                             std::string_view url) {
  if (patterns.empty()) return {};
  const std::string host = host_of(url);
  if (host.empty()) return {};
  const std::string path = path_of(url);
  std::string found;
  for_each_parent(host, [&](std::string_view candidate) {
    const auto it = patterns.find(std::string(candidate));
    if (it == patterns.end()) return false;
    for (const auto& prefix : it->second) {
      // "host/proxy" covers "/proxy" and "/proxy/x"; "" covers the whole host.
      if (prefix.empty() || path.starts_with(prefix)) {
        found = std::string(candidate) + prefix;
        return true;
      }
    }
    return false;
  });
  return found;
}

void add_pattern(std::unordered_map<std::string, std::vector<std::string>>& patterns, std::string value) {
  const auto slash = value.find('/');
  std::string host = util::to_lower(value.substr(0, slash));
  std::string prefix = slash == std::string::npos ? std::string() : util::to_lower(value.substr(slash));
  patterns[std::move(host)].push_back(std::move(prefix));
}

}  // namespace

void KnownEntries::add(std::string_view kind, std::string value) {
  const bool exact = value.find("://") != std::string::npos;
  if (kind == "page") pages.insert(std::move(value));
  else if (kind == "domain") domains.insert(util::to_lower(value));
  else if (kind == "ip") ips.insert(std::move(value));
  else if (kind == "wasm_sha256") wasm_sha256.insert(std::move(value));
  else if (kind == "script_path") script_paths.push_back(util::to_lower(value));
  else if (kind == "script_url")
    exact ? void(script_urls.insert(std::move(value))) : add_pattern(script_patterns, std::move(value));
  else if (kind == "ws_endpoint")
    exact ? void(ws_endpoints.insert(std::move(value))) : add_pattern(ws_patterns, std::move(value));
  else if (kind == "allow") {
    if (exact || value.find('/') == std::string::npos) allow.insert(exact ? std::move(value) : util::to_lower(value));
    else add_pattern(allow_patterns, std::move(value));
  }
}

bool KnownEntries::empty() const {
  return pages.empty() && script_urls.empty() && ws_endpoints.empty() && domains.empty() && ips.empty() &&
         wasm_sha256.empty() && allow.empty() && script_patterns.empty() && ws_patterns.empty() &&
         allow_patterns.empty() && script_paths.empty();
}

std::string KnownEntries::domain_covering(std::string_view host) const {
  if (host.empty()) return {};
  std::string found;
  // Walk from the host to its parents; an allow entry anywhere on the way wins.
  const bool allowed_host = for_each_parent(host, [&](std::string_view candidate) {
    const std::string name(candidate);
    if (allow.contains(name)) return true;
    if (found.empty() && domains.contains(name)) found = name;
    return false;
  });
  return allowed_host ? std::string() : found;
}

std::string KnownEntries::script_listed(std::string_view url) const {
  if (script_urls.contains(std::string(url))) return std::string(url);
  if (auto pattern = pattern_covering(script_patterns, url); !pattern.empty()) return pattern;
  if (!script_paths.empty()) {
    const std::string haystack = util::to_lower(url);
    for (const auto& needle : script_paths)
      if (haystack.find(needle) != std::string::npos) return needle;
  }
  return {};
}

std::string KnownEntries::socket_listed(std::string_view url) const {
  const std::string endpoint = endpoint_key(url);
  if (ws_endpoints.contains(endpoint)) return endpoint;
  return pattern_covering(ws_patterns, url);
}

bool KnownEntries::allowed(std::string_view url) const {
  if (allow.contains(std::string(url)) || allow.contains(endpoint_key(url))) return true;
  const std::string host = host_of(url);
  if (!host.empty() &&
      for_each_parent(host, [&](std::string_view candidate) { return allow.contains(std::string(candidate)); }))
    return true;
  return !pattern_covering(allow_patterns, url).empty();
}

std::string endpoint_key(std::string_view url) {
  const auto cut = url.find_first_of("?#");
  return std::string(url.substr(0, cut));
}

}  // namespace blacklist
