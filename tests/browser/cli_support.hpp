// tests/browser/cli_support.hpp — running the real `cjcrawl` binary and reading its database, for the
// command-line tests. CJCRAWL_BINARY and CJCRAWL_FIXTURES come from tests/CMakeLists.txt.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"

namespace testsupport {

// The real public lists, copied with their licences into the repository (tests/fixtures/blocklists).
inline const std::filesystem::path kBlocklists = std::filesystem::path(CJCRAWL_FIXTURES) / "blocklists";

inline ProcessResult cjcrawl(std::vector<std::string> args) {
  args.insert(args.begin(), CJCRAWL_BINARY);
  return run_process(args, std::chrono::seconds(60));
}

// The rows of `query` as sqlite3 prints them ("a|b\n" per row).
inline std::string sql(const std::filesystem::path& db, const std::string& query) {
  return run_process({"/usr/bin/sqlite3", db.string(), query}, std::chrono::seconds(10)).out;
}

}  // namespace testsupport
