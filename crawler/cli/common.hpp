// crawler/cli/common.hpp — what every `cjcrawl` command shares: exit codes, usage errors, the one
// place a database error becomes the message a user reads, range validators for CLI11, and the
// options of the commands that visit sites (check, crawl).
//
// Each command lives in a file of its own (check.cpp, crawl.cpp, crawls.cpp, import.cpp,
// export.cpp, serve.cpp) with its arguments, its options and its run function (commands.hpp);
// main.cpp only parses and dispatches.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "blacklist/cpu_rule.hpp"
#include "blacklist/detector.hpp"
#include "blacklist/rules.hpp"
#include "crawler/visit.hpp"
#include "db/store.hpp"
#include "util/status.hpp"

namespace crawler::cli {

// Exit codes (README "Exit codes").
inline constexpr int kExitClean = 0;
inline constexpr int kExitCouldNotCheck = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCryptojacking = 3;
inline constexpr int kExitInterrupted = 130;

// Failures reach the user one way: a util::Error, printed as "cjcrawl: <describe()>", with exit code
// 2 for bad input (invalid_argument) and 1 for anything else.
int exit_code_for(const util::Error& error);
int report(const util::Error& error);
// An invalid_argument error (a usage error) with this message.
util::Error usage(std::string message);
// Prints "cjcrawl: MESSAGE" and returns kExitUsage / kExitCouldNotCheck.
int usage_error(std::string_view message);
int failure(std::string_view message);

// The one place a failed database operation becomes the message a user reads: what cjcrawl was
// doing, the store's words, and what to do for the kinds a user can act on. The code is kept.
util::Error database_failure(std::string_view doing, const util::Error& error);
std::string describe_database_error(std::string_view doing, const util::Error& error);
// Prints database_failure(doing, error) and returns kExitCouldNotCheck.
int database_error(std::string_view doing, const util::Error& error);

// An output file named by `option` (--report, -o, --out) must have a folder to go in, and must not
// be a folder itself: checked before any work, so a visit or a crawl is never wasted on a typo.
util::Status check_output_path(std::string_view option, const std::string& path);
// Writes `text` to `path` beside its final name (`path.tmp`) and renames it, so a reader never sees
// half of it. The error names `path` (not the temporary) and the operating system's reason in words.
util::Status write_file_atomically(const std::string& path, std::string_view text);
// "cannot write PATH: REASON" for errno `error`, naming a missing folder or a refused permission.
util::Error write_failure(const std::string& path, int error);

// The default database: $CJCRAWL_DB, else ./cjcrawl.db (visible where the user works).
std::string default_db_path();
// Opens the store for a command; on failure prints the message (database_error) and returns null.
std::unique_ptr<db::Store> open_database(const std::string& location, db::OpenMode mode);

// A CLI11 validator for a number in [low, high], whose failure reads "VALUE: expected LOW to HIGH
// UNIT" and whose description ("LOW to HIGH") shows in --help.
CLI::Validator in_range(double low, double high, std::string_view unit = "");
// CLI11 reports a validator's failure as "--name: message"; cjcrawl writes "--name message".
std::string usage_message(const CLI::ParseError& error);
// `text` with every password a database URL or key=value string in it holds replaced by "***".
std::string without_passwords(std::string text);

// The help text of every command's --db.
inline constexpr const char* kDatabaseHelp =
    "Database: a SQLite file, or a shared PostgreSQL as postgresql://USER@HOST/DB or key=value (password from "
    "PGPASSWORD or ~/.pgpass); $CJCRAWL_DB, default ./cjcrawl.db";

// The options of the commands that visit sites.
struct VisitArgs {
  std::string db_path = default_db_path();
  std::optional<std::filesystem::path> rules;
  std::optional<std::filesystem::path> chrome;
  std::vector<std::string> chrome_args;
  // The egress guard's exceptions (--allow-network, util::parse_network_exception) and name mapping
  // (--host-resolver-rules, util::HostRules; also accepted in its older spelling
  // --chrome-arg=--host-resolver-rules=…, which is translated, never passed to Chrome).
  std::vector<std::string> allow_network;
  std::string host_resolver_rules;
  std::string chrome_user = "nobody";
  bool unsafe_no_sandbox = false;
  bool unsafe_no_egress_guard = false;
  bool headless_profile = false;
  bool no_interaction = false;
  bool no_late_watch = false;
  bool no_early_stop = false;
  bool no_profile = false;
  double deadline_seconds = 45;
  double load_timeout_seconds = 15;
  int sample_period_ms = 500;
  blacklist::CpuRule rule;
};
void add_visit_options(CLI::App* command, VisitArgs& args);
// What the validators cannot see (a Chrome flag cjcrawl must own, the rule as a whole).
util::Status check_visit_args(const VisitArgs& args);

// The rules (bad ones reported and skipped) and the Chrome binary, found and reported.
struct RulesAndChrome {
  blacklist::Rules rules;
  std::filesystem::path chrome;
};
// An error when either is missing (a usage error for a bad --rules).
util::Result<RulesAndChrome> find_rules_and_chrome(const VisitArgs& args);

// The VisitOptions for `args`; `detector` must outlive them.
crawler::VisitOptions visit_options(const VisitArgs& args, const std::filesystem::path& chrome,
                                    const blacklist::Detector& detector);

}  // namespace crawler::cli
