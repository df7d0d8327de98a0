// crawler/rules_path.hpp — where the detection rules come from.
//
// Order: --rules DIR, then $CJCRAWL_RULES, then the installed data directory
// (<prefix>/share/cjcrawl/rules), then the source tree the binary was built from (seeds/rules).
// `cjcrawl --version` prints the one in use.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "util/status.hpp"

namespace crawler {

struct RulesLocation {
  std::filesystem::path dir;
  std::string origin;  // "--rules", "$CJCRAWL_RULES", "installed", "source tree"
};

// The rules directory in use; an error when an explicit choice (--rules, $CJCRAWL_RULES) is not a
// directory (invalid_argument: never silently replaced by a default), or when none was found
// (not_found).
util::Result<RulesLocation> find_rules(const std::optional<std::filesystem::path>& flag);

}  // namespace crawler
