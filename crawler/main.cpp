// crawler/main.cpp — the `cjcrawl` command line.
//
// Subcommands: `check URL` (one site, end to end). Exit codes are documented in README.md:
//   0 checked, not cryptojacking · 3 cryptojacking · 1 could not check · 2 usage error · 130 interrupted
// This is the only place where work is spawned detached from an owner: the top-level task.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "blacklist/detector.hpp"
#include "crawler/report.hpp"
#include "crawler/rules_path.hpp"
#include "crawler/url_input.hpp"
#include "crawler/visit.hpp"
#include "db/store.hpp"

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr int kExitClean = 0;
constexpr int kExitCouldNotCheck = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCryptojacking = 3;
constexpr int kExitInterrupted = 130;

// The default database: $CJCRAWL_DB, else ./cjcrawl.db (visible where the user works).
std::string default_db_path() {
  if (const char* env = std::getenv("CJCRAWL_DB"); env && *env) return env;
  return "cjcrawl.db";
}

struct CheckArgs {
  std::string input;
  bool json = false;
  std::string db_path = default_db_path();
  std::optional<fs::path> rules;
  std::optional<fs::path> chrome;
  std::vector<std::string> chrome_args;
  std::string chrome_user = "nobody";
  bool unsafe_no_sandbox = false;
  double deadline_seconds = 45;
  double load_timeout_seconds = 15;
  int sample_period_ms = 500;
  blacklist::CpuRule rule;
};

int usage_error(const std::string& message) {
  fmt::print(stderr, "cjcrawl: {}\n", message);
  return kExitUsage;
}

// Statuses where a bare host is worth retrying over plain http.
bool worth_http_fallback(blacklist::Status status) {
  return status == blacklist::Status::tls_error || status == blacklist::Status::connection_error;
}

int run_check(const CheckArgs& args) {
  // Validate everything before launching anything.
  if (auto problem = args.rule.validate(); !problem.empty()) return usage_error(problem);
  if (args.sample_period_ms < 50 || args.sample_period_ms > 60'000)
    return usage_error(fmt::format("--sample-period {}: expected 50 to 60000 ms", args.sample_period_ms));
  if (!(args.deadline_seconds >= 1 && args.deadline_seconds <= 3600))
    return usage_error(fmt::format("--deadline {}: expected 1 to 3600 seconds", args.deadline_seconds));
  if (!(args.load_timeout_seconds > 0 && args.load_timeout_seconds <= 3600))
    return usage_error(fmt::format("--load-timeout {}: expected 0 to 3600 seconds", args.load_timeout_seconds));
  for (const auto& arg : args.chrome_args)
    if (auto why = cdp::check_chrome_arg(arg)) return usage_error(*why);
  const auto input = crawler::parse_input(args.input);
  if (!input.error.empty()) return usage_error(fmt::format("{}: {}", args.input, input.error));
  const auto rules_location = crawler::find_rules(args.rules);
  if (!rules_location.error.empty()) {
    if (args.rules) return usage_error(rules_location.error);
    fmt::print(stderr, "cjcrawl: {}\n", rules_location.error);
    return kExitCouldNotCheck;
  }
  // A bad rule is reported with file and line and skipped; it never stops the check.
  auto loaded = blacklist::Rules::load(rules_location.dir);
  for (const auto& problem : loaded.problems)
    fmt::print(stderr, "cjcrawl: warning: rule skipped: {}\n", blacklist::to_string(problem));

  std::vector<std::string> tried;
  const auto chrome = cdp::find_chrome(args.chrome, &tried);
  if (!chrome) {
    std::string places;
    for (const auto& place : tried) places += "\n  " + place;
    fmt::print(stderr, "cjcrawl: no usable Chrome found (install Debian's chromium, or pass --chrome PATH). Tried:{}\n",
               places);
    return kExitCouldNotCheck;
  }
  if (args.unsafe_no_sandbox)
    fmt::print(stderr, "cjcrawl: WARNING: --unsafe-no-sandbox: Chrome runs WITHOUT its sandbox while visiting "
                       "hostile pages. A renderer exploit then runs with cjcrawl's privileges.\n");

  std::optional<db::Store> store;
  try {
    store.emplace(db::Store::open(args.db_path));
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: cannot open the database {}: {}\n", args.db_path, e.what());
    return kExitCouldNotCheck;
  }

  const blacklist::Detector detector(std::move(loaded.rules), store->known_entries());

  const int orphans = cdp::remove_orphaned_profiles();
  if (orphans > 0) spdlog::info("removed {} Chrome profile(s) left by an earlier, killed cjcrawl", orphans);

  crawler::VisitOptions options;
  options.launch.chrome = *chrome;
  options.launch.extra_args = args.chrome_args;
  options.launch.unsafe_no_sandbox = args.unsafe_no_sandbox;
  options.launch.chrome_user = args.chrome_user;
  options.site_deadline = std::chrono::milliseconds(static_cast<long>(args.deadline_seconds * 1000));
  options.load_timeout = std::chrono::milliseconds(static_cast<long>(args.load_timeout_seconds * 1000));
  options.sample_period = std::chrono::milliseconds(args.sample_period_ms);
  options.cpu_rule = args.rule;
  options.detector = &detector;

  std::optional<crawler::VisitOutcome> outcome;
  bool interrupted = false;
  {
    asio::io_context io;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      interrupted = true;
      io.stop();  // destroying the io_context below tears the visit down: Chrome killed, profile removed
    });
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (const auto& url : input.candidates) {
            outcome = co_await crawler::visit(args.input, url, options);
            if (!outcome->tool_error.empty() || !worth_http_fallback(outcome->evidence.status)) break;
          }
          signals.cancel();
        },
        asio::detached);
    io.run();
  }
  if (interrupted) {
    fmt::print(stderr, "cjcrawl: interrupted; Chrome stopped and its profile removed\n");
    return kExitInterrupted;
  }
  if (!outcome || !outcome->tool_error.empty()) {
    fmt::print(stderr, "cjcrawl: could not check {}: {}\n", args.input, outcome ? outcome->tool_error : "no result");
    return kExitCouldNotCheck;
  }

  const auto judgement = detector.judge(outcome->evidence, args.rule, outcome->cpu);
  try {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    store->record_visit(outcome->evidence, judgement, now_ms);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: the visit could not be recorded in {}: {}\n", args.db_path, e.what());
    return kExitCouldNotCheck;
  }

  if (args.json)
    std::cout << crawler::report_json(outcome->evidence, judgement, args.rule, outcome->cpu)
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  else
    std::cout << crawler::human_summary(outcome->evidence, judgement, args.rule, outcome->cpu);
  std::cout.flush();

  if (judgement.verdict == blacklist::Verdict::cryptojacking) return kExitCryptojacking;
  if (outcome->evidence.status != blacklist::Status::ok) return kExitCouldNotCheck;
  return kExitClean;
}

std::string version_text(const std::optional<fs::path>& rules_flag) {
  const auto rules = crawler::find_rules(rules_flag);
  const auto chrome = cdp::find_chrome(std::nullopt);
  return fmt::format("cjcrawl {}\nrules:  {}\nchrome: {}", CJCRAWL_VERSION,
                     rules.error.empty() ? fmt::format("{} ({})", rules.dir.string(), rules.origin) : rules.error,
                     chrome ? chrome->string() : std::string("not found"));
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a closed stdout pipe is an error to report, not a silent death
  auto logger = spdlog::stderr_color_mt("cjcrawl");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("cjcrawl: %l: %v");
  spdlog::set_level(spdlog::level::warn);

  CLI::App app{"cjcrawl — find web cryptojacking with instrumented headless Chrome"};
  bool show_version = false;
  bool verbose = false;
  std::optional<fs::path> version_rules;
  app.add_flag("--version", show_version, "Print the version, the rules directory in use, and the Chrome found");
  app.add_option("--rules", version_rules, "Rules directory (with --version)");
  app.add_flag("-v,--verbose", verbose, "Log protocol details to stderr");
  app.require_subcommand(0, 1);

  CheckArgs check;
  auto* check_cmd = app.add_subcommand("check", "Visit one site in sandboxed headless Chrome and give a verdict");
  check_cmd->add_option("URL", check.input, "http(s) URL or bare host name")->required();
  check_cmd->add_flag("--json", check.json, "Print one JSON object (schema in README) instead of the summary");
  check_cmd->add_option("--db", check.db_path, "SQLite database ($CJCRAWL_DB, default ./cjcrawl.db)");
  check_cmd->add_option("--rules", check.rules, "Rules directory (default: see --version)");
  check_cmd->add_option("--chrome", check.chrome, "Chrome binary (default: $CJCRAWL_CHROME, /usr/lib/chromium/chromium, ...)");
  check_cmd->add_option("--chrome-arg", check.chrome_args, "Extra Chrome flag (repeatable); sandbox, DevTools and profile flags are refused")
      ->allow_extra_args(false);
  check_cmd->add_option("--chrome-user", check.chrome_user, "Unprivileged user Chrome runs as when cjcrawl is root")
      ->capture_default_str();
  check_cmd->add_flag("--unsafe-no-sandbox", check.unsafe_no_sandbox, "Run Chrome without its sandbox (dangerous)");
  check_cmd->add_option("--deadline", check.deadline_seconds, "Site deadline in seconds: launch, load and sampling")
      ->capture_default_str();
  check_cmd->add_option("--load-timeout", check.load_timeout_seconds, "Start sampling after this many seconds without a load event")
      ->capture_default_str();
  check_cmd->add_option("--sample-period", check.sample_period_ms, "CPU sampling period in ms")->capture_default_str();
  check_cmd->add_option("--window", check.rule.window, "CPU rule window, in samples")->capture_default_str();
  check_cmd->add_option("--threshold", check.rule.threshold_percent, "CPU rule threshold, % of one core")->capture_default_str();
  check_cmd->add_option("--ratio", check.rule.ratio, "Share of a window that must exceed the threshold")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (show_version) {
      fmt::print("{}\n", version_text(version_rules));
      return kExitClean;
    }
    app.exit(e);
    return kExitUsage;
  }
  if (verbose) spdlog::set_level(spdlog::level::debug);
  if (show_version) {
    fmt::print("{}\n", version_text(version_rules));
    return kExitClean;
  }
  if (check_cmd->parsed()) return run_check(check);
  fmt::print(stderr, "{}", app.help());
  return kExitUsage;
}
