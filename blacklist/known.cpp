// blacklist/known.cpp — lookups in the database blacklist snapshot.
#include "blacklist/known.hpp"

namespace blacklist {

std::string KnownEntries::domain_covering(std::string_view host) const {
  if (host.empty()) return {};
  // Walk from the host to its parents; an allow entry anywhere on the way wins.
  std::string found;
  for (std::string_view rest = host;;) {
    const std::string candidate(rest);
    if (allow.contains(candidate)) return {};
    if (found.empty() && domains.contains(candidate)) found = candidate;
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return found;
}

std::string endpoint_key(std::string_view url) {
  const auto cut = url.find_first_of("?#");
  return std::string(url.substr(0, cut));
}

}  // namespace blacklist
