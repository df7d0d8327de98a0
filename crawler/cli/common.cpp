// crawler/cli/common.cpp — see common.hpp.
#include "crawler/cli/common.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <re2/re2.h>

#include <spdlog/spdlog.h>

#include "cdp/chrome_process.hpp"
#include "crawler/profile.hpp"
#include "crawler/report.hpp"
#include "crawler/rules_path.hpp"

namespace crawler::cli {

int exit_code_for(const util::Error& error) {
  return error.code == util::ErrorCode::invalid_argument ? kExitUsage : kExitCouldNotCheck;
}

int report(const util::Error& error) {
  fmt::print(stderr, "cjcrawl: {}\n", error.describe());
  return exit_code_for(error);
}

util::Error usage(std::string message) {
  return util::make_error(util::ErrorCode::invalid_argument, "", std::move(message));
}

int usage_error(std::string_view message) { return report(usage(std::string(message))); }

util::Status check_output_path(std::string_view option, const std::string& path) {
  if (path.empty() || path == "-") return {};
  const auto folder = std::filesystem::absolute(path).parent_path();
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error))
    return usage(
        fmt::format("{} {}: no folder {} to write it in", option, terminal_safe(path), terminal_safe(folder.string())));
  if (std::filesystem::is_directory(path, error))
    return usage(fmt::format("{} {}: is a folder", option, terminal_safe(path)));
  return {};
}

util::Error write_failure(const std::string& path, int error) {
  std::string reason = error != 0 ? std::strerror(error) : "the write failed";
  const auto folder = std::filesystem::absolute(path).parent_path();
  std::error_code ignored;
  if (error == ENOENT && !std::filesystem::is_directory(folder, ignored))
    reason = "there is no folder " + terminal_safe(folder.string());
  else if (error == EACCES || error == EPERM || error == EROFS)
    reason += " (check the permissions of " + terminal_safe(folder.string()) + ")";
  else if (error == ENOSPC || error == EDQUOT) reason += " (free some space, then run this again)";
  return util::make_error(util::ErrorCode::io, "cannot write " + terminal_safe(path), reason, error);
}

util::Status write_file_atomically(const std::string& path, std::string_view text) {
  const std::string temporary = path + ".tmp";
  {
    errno = 0;
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(text.data(), static_cast<std::streamsize>(text.size())) || !out.flush()) {
      const int error = errno;
      std::remove(temporary.c_str());
      return write_failure(path, error);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    return write_failure(path, error);
  }
  return {};
}

int failure(std::string_view message) {
  return report(util::make_error(util::ErrorCode::internal, "", std::string(message)));
}

std::string describe_database_error(std::string_view doing, const util::Error& error) {
  using util::ErrorCode;
  std::string advice;
  switch (error.code) {
    case ErrorCode::busy:
    case ErrorCode::locked: advice = " (another process holds the database: let it finish, then run this again)"; break;
    case ErrorCode::full: advice = " (no space left: free some, then run this again)"; break;
    case ErrorCode::read_only:
    case ErrorCode::permission:
      advice = error.describe().find("postgresql://") != std::string::npos
                   ? " (permission denied: check the user and its password, given by PGPASSWORD or ~/.pgpass, and its "
                     "grants)"
               : error.describe().find("permission denied:") != std::string::npos
                   ? ""  // the store already said which permission, and for whom
                   : " (check the file's and its folder's permissions)";
      break;
    case ErrorCode::unavailable:
      advice = " (database unreachable: is the server running, and are the host and port right?)";
      break;
    case ErrorCode::not_found:
      if (error.describe().find("postgresql://") != std::string::npos)
        advice = " (create the database first, e.g. with createdb, or name another)";
      break;
    case ErrorCode::corrupt:
      advice = " (the file is damaged: restore it from a copy, or start another with --db)";
      break;
    default: break;
  }
  return fmt::format("{}: {}{}", doing, error.describe(), advice);
}

util::Error database_failure(std::string_view doing, const util::Error& error) {
  util::Error out = error;
  out.context.clear();
  out.message = describe_database_error(doing, error);
  return out;
}

int database_error(std::string_view doing, const util::Error& error) {
  fmt::print(stderr, "cjcrawl: {}\n", describe_database_error(doing, error));
  return kExitCouldNotCheck;
}

std::string default_db_path() {
  if (const char* env = std::getenv("CJCRAWL_DB"); env && *env) return env;
  return "cjcrawl.db";
}

std::unique_ptr<db::Store> open_database(const std::string& location, db::OpenMode mode) {
  auto opened = db::open_store(location, mode);
  if (!opened) {
    database_error(fmt::format("cannot open the database {}", db::shown_location(location)), opened.error());
    return nullptr;
  }
  return std::move(opened).value();
}

// 1000000000000, not 1e+12: the bounds a user reads and types.
std::string plain_number(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e18) return fmt::format("{}", static_cast<long long>(value));
  return fmt::format("{}", value);
}

CLI::Validator in_range(double low, double high, std::string_view unit) {
  const std::string suffix = unit.empty() ? std::string() : " " + std::string(unit);
  return CLI::Validator(
      [low, high, suffix](std::string& input) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(input, value)) return fmt::format("{}: not a number", input);
        if (!(value >= low && value <= high))
          return fmt::format("{}: expected {} to {}{}", input, plain_number(low), plain_number(high), suffix);
        return {};
      },
      fmt::format("{} to {}{}", plain_number(low), plain_number(high), suffix));
}

std::string without_passwords(std::string text) {
  // scheme://user:PASSWORD@host → scheme://user:***@host; password=VALUE (libpq key=value) → password=***
  static const RE2 in_uri(R"(([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*):[^@\s/]*@)");
  static const RE2 in_keywords(R"(((?i)password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]+))");
  RE2::GlobalReplace(&text, in_uri, R"(\1:***@)");
  RE2::GlobalReplace(&text, in_keywords, R"(\1***)");
  return text;
}

std::string usage_message(const CLI::ParseError& error) {
  // CLI11 echoes unexpected arguments verbatim: a mistyped command must not print a database
  // password it was given.
  std::string text = without_passwords(error.what());
  // "--window: 0: expected 1 to 10000" → "--window 0: expected 1 to 10000"
  if (dynamic_cast<const CLI::ValidationError*>(&error) && text.starts_with("--")) {
    const auto colon = text.find(": ");
    if (colon != std::string::npos) text.replace(colon, 2, " ");
  }
  return text;
}

void add_visit_options(CLI::App* command, VisitArgs& args) {
  command->add_option("--db", args.db_path, kDatabaseHelp);
  command->add_option("--rules", args.rules, "Rules directory (default: see --version)");
  command->add_option("--chrome", args.chrome,
                      "Chrome binary (default: $CJCRAWL_CHROME, /usr/lib/chromium/chromium, ...)");
  command
      ->add_option("--chrome-arg", args.chrome_args,
                   "Extra Chrome flag (repeatable); sandbox, DevTools and profile flags are refused")
      ->allow_extra_args(false);
  command
      ->add_option("--allow-network", args.allow_network,
                   "Let pages reach this private address, network or host (repeatable): HOST[:PORT], ADDRESS[:PORT] "
                   "or a CIDR; loopback, private, link-local and unique-local addresses are closed by default")
      ->allow_extra_args(false)
      ->check(
          [](const std::string& value) -> std::string {
            auto parsed = util::parse_network_exception(value);
            return parsed ? std::string() : terminal_safe(parsed.error().message, 200);
          },
          "");
  command->add_option("--host-resolver-rules", args.host_resolver_rules,
                      "Map host names before cjcrawl resolves them, in Chrome's grammar: \"MAP *.test 127.0.0.1, "
                      "MAP * ~NOTFOUND\" (a mapping opens no private address: see --allow-network)");
  command->add_option("--chrome-user", args.chrome_user, "Unprivileged user Chrome runs as when cjcrawl is root")
      ->capture_default_str();
  command->add_flag("--unsafe-no-sandbox", args.unsafe_no_sandbox, "Run Chrome without its sandbox (dangerous)");
  command->add_flag("--unsafe-no-egress-guard", args.unsafe_no_egress_guard,
                    "Let pages reach every address the machine can, private networks included (dangerous; for a "
                    "crawler already fenced in by its own network, and for measuring the guard's cost)");
  command->add_flag("--no-interaction", args.no_interaction,
                    "Do not move the mouse and scroll after load (miners that wait for a gesture then stay idle)");
  command->add_flag(
      "--no-late-watch", args.no_late_watch,
      "Decide within one CPU window even when a worker's socket, miner keywords or Wasm suggest a late start");
  command->add_flag("--no-early-stop", args.no_early_stop,
                    "Sample exactly one CPU window per site, as the original method did (a baseline; slower)");
  command->add_flag("--no-profile", args.no_profile,
                    "Never profile busy pages to name their hot code (CPU and Wasm then judge without it)");
  command->add_flag("--headless-profile", args.headless_profile,
                    "Show pages Chrome's own headless identity (HeadlessChrome user agent, navigator.webdriver) "
                    "instead of a desktop browser's");
  command->add_option("--deadline", args.deadline_seconds, "Site deadline in seconds: launch, load and sampling")
      ->check(in_range(1, 3600, "seconds"))
      ->capture_default_str();
  command
      ->add_option("--load-timeout", args.load_timeout_seconds,
                   "Start sampling after this many seconds without a load event")
      ->check(in_range(0.001, 3600, "seconds"))
      ->capture_default_str();
  command->add_option("--sample-period", args.sample_period_ms, "CPU sampling period in ms")
      ->check(in_range(50, 60'000, "ms"))
      ->capture_default_str();
  command->add_option("--window", args.rule.window, "CPU rule window, in samples")
      ->check(in_range(1, 10'000, "samples"))
      ->capture_default_str();
  command->add_option("--threshold", args.rule.threshold_percent, "CPU rule threshold, % of one core (100 = one core)")
      ->check(in_range(0.001, 10'000, "%"))
      ->capture_default_str();
  command->add_option("--ratio", args.rule.ratio, "Share of a window that must exceed the threshold")
      ->check(in_range(0.001, 1))
      ->capture_default_str();
}

namespace {

constexpr std::string_view kChromeResolverRules = "--host-resolver-rules=";

// The host rules text from --host-resolver-rules or the older --chrome-arg=--host-resolver-rules=…
// (the last one given; check_visit_args refuses both at once).
std::string host_rules_text(const VisitArgs& args) {
  std::string text = args.host_resolver_rules;
  for (const auto& arg : args.chrome_args)
    if (arg.starts_with(kChromeResolverRules)) text = arg.substr(kChromeResolverRules.size());
  return text;
}

}  // namespace

util::Status check_visit_args(const VisitArgs& args) {
  if (auto problem = args.rule.validate(); !problem.empty()) return usage(problem);
  int rules_given = args.host_resolver_rules.empty() ? 0 : 1;
  for (const auto& arg : args.chrome_args) {
    if (arg.starts_with(kChromeResolverRules)) {
      ++rules_given;  // cjcrawl's own resolver applies them now (see host_rules_text)
      continue;
    }
    if (auto why = cdp::check_chrome_arg(arg)) return usage(*why);
  }
  if (rules_given > 1)
    return usage(
        "host resolver rules given twice: use --host-resolver-rules once (the older spelling "
        "--chrome-arg=--host-resolver-rules=… means the same)");
  if (auto rules = util::HostRules::parse(host_rules_text(args)); !rules)
    return usage("--host-resolver-rules: " + rules.error().message);
  return {};
}

util::Result<RulesAndChrome> find_rules_and_chrome(const VisitArgs& args) {
  const auto rules_location = crawler::find_rules(args.rules);
  if (!rules_location) return rules_location.error();
  // A bad rule is reported with file and line and skipped; it never stops the run.
  auto loaded = blacklist::Rules::load(rules_location->dir);
  for (const auto& problem : loaded.problems)
    fmt::print(stderr, "cjcrawl: warning: rule skipped: {}\n", blacklist::to_string(problem));
  std::vector<std::string> tried;
  const auto chrome = cdp::find_chrome(args.chrome, &tried);
  if (!chrome) {
    std::string places;
    for (const auto& place : tried) places += "\n  " + place;
    return util::make_error(
        util::ErrorCode::browser_start, "",
        fmt::format("no usable Chrome found (install Debian's chromium, or pass --chrome PATH). Tried:{}", places));
  }
  if (args.unsafe_no_egress_guard)
    fmt::print(stderr,
               "cjcrawl: WARNING: --unsafe-no-egress-guard: crawled pages can reach this machine's loopback "
               "services, its private networks and the cloud metadata address.\n");
  if (args.unsafe_no_sandbox)
    fmt::print(stderr,
               "cjcrawl: WARNING: --unsafe-no-sandbox: Chrome runs WITHOUT its sandbox while visiting "
               "hostile pages. A renderer exploit then runs with cjcrawl's privileges.\n");
  return RulesAndChrome{std::move(loaded.rules), *chrome};
}

crawler::VisitOptions visit_options(const VisitArgs& args, const std::filesystem::path& chrome,
                                    const blacklist::Detector& detector) {
  crawler::VisitOptions options;
  options.launch.chrome = chrome;
  for (const auto& arg : args.chrome_args)
    if (!arg.starts_with(kChromeResolverRules)) options.launch.extra_args.push_back(arg);
  // Both were validated by check_visit_args and the option's check.
  for (const auto& value : args.allow_network)
    if (auto exception = util::parse_network_exception(value)) options.launch.egress.allow.push_back(*exception);
  if (auto rules = util::HostRules::parse(host_rules_text(args))) options.launch.egress.host_rules = std::move(*rules);
  if (!args.headless_profile) {
    // The desktop profile first: a user's own --chrome-arg comes later and wins.
    static const auto version = crawler::chrome_major_version(chrome);
    if (!version) spdlog::warn("cannot read {} --version: the user agent stays Chrome's own", chrome.string());
    const auto profile = crawler::desktop_profile_args(version);
    options.launch.extra_args.insert(options.launch.extra_args.begin(), profile.begin(), profile.end());
  }
  options.launch.unsafe_no_sandbox = args.unsafe_no_sandbox;
  options.launch.egress_guard = !args.unsafe_no_egress_guard;
  options.launch.chrome_user = args.chrome_user;
  options.site_deadline = std::chrono::milliseconds(static_cast<long>(args.deadline_seconds * 1000));
  options.load_timeout = std::chrono::milliseconds(static_cast<long>(args.load_timeout_seconds * 1000));
  options.sample_period = std::chrono::milliseconds(args.sample_period_ms);
  options.cpu_rule = args.rule;
  options.detector = &detector;
  options.interact = !args.no_interaction;
  options.early_stop = !args.no_early_stop;
  options.profile_hot_code = !args.no_profile;
  return options;
}

}  // namespace crawler::cli
