// crawler/rules_path.hpp — where the detection rules come from.
//
// Order: --rules DIR, then $CJCRAWL_RULES, then the installed data directory
// (<prefix>/share/cjcrawl/rules), then the source tree the binary was built from (seeds/rules).
// `cjcrawl --version` prints the one in use.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace crawler {

struct RulesLocation {
  std::filesystem::path dir;
  std::string origin;  // "--rules", "$CJCRAWL_RULES", "installed", "source tree"
  std::string error;   // set when nothing usable was found, or an explicit choice is not a directory
};

RulesLocation find_rules(const std::optional<std::filesystem::path>& flag);

}  // namespace crawler
