// crawler/rules_path.cpp — the rules directory lookup.
#include "crawler/rules_path.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace crawler {

util::Result<RulesLocation> find_rules(const std::optional<std::filesystem::path>& flag) {
  namespace fs = std::filesystem;
  using util::ErrorCode;
  auto usable = [](const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec);
  };
  // An explicit choice that does not exist is an error, never silently replaced by a default.
  if (flag) {
    if (usable(*flag)) return RulesLocation{*flag, "--rules"};
    return util::make_error(ErrorCode::invalid_argument, "",
                            fmt::format("--rules {}: not a directory", flag->string()));
  }
  if (const char* env = std::getenv("CJCRAWL_RULES"); env && *env) {
    if (usable(env)) return RulesLocation{env, "$CJCRAWL_RULES"};
    return util::make_error(ErrorCode::invalid_argument, "", fmt::format("$CJCRAWL_RULES={}: not a directory", env));
  }
  const fs::path installed = fs::path(CJCRAWL_INSTALL_DATADIR) / "rules";
  if (usable(installed)) return RulesLocation{installed, "installed"};
  const fs::path source = CJCRAWL_SOURCE_RULES;
  if (usable(source)) return RulesLocation{source, "source tree"};
  return util::make_error(
      ErrorCode::not_found, "",
      fmt::format("no rules directory: tried --rules, $CJCRAWL_RULES, {} and {}", installed.string(), source.string()));
}

}  // namespace crawler
