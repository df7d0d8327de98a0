// crawler/main.cpp — the `cjcrawl` command line.
//
// Subcommands: `check URL` (one site, end to end), `import SOURCE...` (public blocklists), `export`
// (the blacklist as a feed file), `serve` (feeds, API and dashboard over HTTP). Exit codes are documented in README.md:
//   0 checked, not cryptojacking · 3 cryptojacking · 1 could not check · 2 usage error · 130 interrupted
// This is the only place where work is spawned detached from an owner: the top-level task.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <iostream>
#include <optional>
#include <thread>
#include <variant>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "blacklist/detector.hpp"
#include "blacklist/list_import.hpp"
#include "blacklist/scan_cache.hpp"
#include "crawler/crawl.hpp"
#include "crawler/crawl_input.hpp"
#include "crawler/feed.hpp"
#include "crawler/profile.hpp"
#include "crawler/fetch.hpp"
#include "crawler/report.hpp"
#include "crawler/rules_path.hpp"
#include "crawler/serve.hpp"
#include "crawler/url_input.hpp"
#include "crawler/visit.hpp"
#include "db/export.hpp"
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
  bool headless_profile = false;
  bool no_interaction = false;
  bool no_late_watch = false;
  bool no_early_stop = false;
  double deadline_seconds = 45;
  double load_timeout_seconds = 15;
  int sample_period_ms = 500;
  blacklist::CpuRule rule;
};

int usage_error(const std::string& message) {
  fmt::print(stderr, "cjcrawl: {}\n", message);
  return kExitUsage;
}


// The options every visit takes, checked before anything is launched: a usage error, or nullopt.
std::optional<int> check_visit_args(const CheckArgs& args) {
  if (auto problem = args.rule.validate(); !problem.empty()) return usage_error(problem);
  if (args.sample_period_ms < 50 || args.sample_period_ms > 60'000)
    return usage_error(fmt::format("--sample-period {}: expected 50 to 60000 ms", args.sample_period_ms));
  if (!(args.deadline_seconds >= 1 && args.deadline_seconds <= 3600))
    return usage_error(fmt::format("--deadline {}: expected 1 to 3600 seconds", args.deadline_seconds));
  if (!(args.load_timeout_seconds > 0 && args.load_timeout_seconds <= 3600))
    return usage_error(fmt::format("--load-timeout {}: expected 0 to 3600 seconds", args.load_timeout_seconds));
  for (const auto& arg : args.chrome_args)
    if (auto why = cdp::check_chrome_arg(arg)) return usage_error(*why);
  return std::nullopt;
}

using LoadedRules = decltype(blacklist::Rules::load(std::declval<fs::path>()));

// Rules and Chrome, found and reported. An exit code when either is missing.
std::variant<int, std::pair<LoadedRules, fs::path>> find_rules_and_chrome(const CheckArgs& args) {
  const auto rules_location = crawler::find_rules(args.rules);
  if (!rules_location.error.empty()) {
    if (args.rules) return usage_error(rules_location.error);
    fmt::print(stderr, "cjcrawl: {}\n", rules_location.error);
    return kExitCouldNotCheck;
  }
  // A bad rule is reported with file and line and skipped; it never stops the run.
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
  return std::pair<LoadedRules, fs::path>(std::move(loaded), *chrome);
}

crawler::VisitOptions visit_options(const CheckArgs& args, const fs::path& chrome, const blacklist::Detector& detector) {
  crawler::VisitOptions options;
  options.launch.chrome = chrome;
  options.launch.extra_args = args.chrome_args;
  if (!args.headless_profile) {
    // The desktop profile first: a user's own --chrome-arg comes later and wins.
    static const auto version = crawler::chrome_major_version(chrome);
    if (!version) spdlog::warn("cannot read {} --version: the user agent stays Chrome's own", chrome.string());
    const auto profile = crawler::desktop_profile_args(version);
    options.launch.extra_args.insert(options.launch.extra_args.begin(), profile.begin(), profile.end());
  }
  options.launch.unsafe_no_sandbox = args.unsafe_no_sandbox;
  options.launch.chrome_user = args.chrome_user;
  options.site_deadline = std::chrono::milliseconds(static_cast<long>(args.deadline_seconds * 1000));
  options.load_timeout = std::chrono::milliseconds(static_cast<long>(args.load_timeout_seconds * 1000));
  options.sample_period = std::chrono::milliseconds(args.sample_period_ms);
  options.cpu_rule = args.rule;
  options.detector = &detector;
  options.interact = !args.no_interaction;
  options.early_stop = !args.no_early_stop;
  return options;
}

int run_check(const CheckArgs& args) {
  // Validate everything before launching anything.
  if (auto usage = check_visit_args(args)) return *usage;
  const auto input = crawler::parse_input(args.input);
  if (!input.error.empty()) return usage_error(fmt::format("{}: {}", args.input, input.error));
  auto found = find_rules_and_chrome(args);
  if (const int* exit_code = std::get_if<int>(&found)) return *exit_code;
  auto& [loaded, chrome_path] = std::get<1>(found);
  const std::optional<fs::path> chrome = chrome_path;

  std::optional<db::Store> store;
  try {
    store.emplace(db::Store::open(args.db_path));
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: cannot open the database {}: {}\n", args.db_path, e.what());
    return kExitCouldNotCheck;
  }

  const blacklist::Detector detector(std::move(loaded.rules), store->known_entries(), !args.no_late_watch);

  const int orphans = cdp::remove_orphaned_profiles();
  if (orphans > 0) spdlog::info("removed {} Chrome profile(s) left by an earlier, killed cjcrawl", orphans);

  const crawler::VisitOptions options = visit_options(args, *chrome, detector);

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
            if (!outcome->tool_error.empty() || !crawler::worth_http_fallback(outcome->evidence.status)) break;
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

struct ImportArgs {
  std::vector<std::string> sources;
  std::string format;  // empty: detect
  std::string db_path = default_db_path();
  int confidence = 60;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads a local list, refusing anything over the fetch size cap.
std::optional<std::string> read_list_file(const std::string& path, std::string& error) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    error = ec.message();
    return std::nullopt;
  }
  if (size > crawler::FetchOptions{}.max_bytes) {
    error = fmt::format("larger than the {} MB limit", crawler::FetchOptions{}.max_bytes >> 20);
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) {
    error = "cannot read";
    return std::nullopt;
  }
  return text;
}

// `cjcrawl import SOURCE...`: each source is fetched or read, parsed, and made the exact set of
// entries that source lists (db::Store::replace_source_entries). A failing source is reported and
// the others go on; the exit code is 1 if any failed.
int run_import(const ImportArgs& args) {
  std::optional<blacklist::ListFormat> forced;
  if (!args.format.empty()) {
    forced = blacklist::parse_list_format(args.format);
    if (!forced) return usage_error(fmt::format("--format {}: expected adblock, hosts, domains, ips or webext", args.format));
  }
  if (args.confidence < 0 || args.confidence > 100)
    return usage_error(fmt::format("--confidence {}: expected 0 to 100", args.confidence));
  std::optional<db::Store> store;
  try {
    store.emplace(db::Store::open(args.db_path));
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: cannot open the database {}: {}\n", args.db_path, e.what());
    return kExitCouldNotCheck;
  }
  crawler::init_fetching();
  int failures = 0;
  for (const auto& source : args.sources) {
    const bool remote = source.starts_with("http://") || source.starts_with("https://");
    std::string text;
    std::string etag;
    std::string last_modified;
    std::string error;
    if (remote) {
      crawler::FetchOptions options;
      if (const auto previous = store->source(source)) {
        options.if_none_match = previous->etag;
        options.if_modified_since = previous->last_modified;
      }
      auto fetched = crawler::fetch_url(source, options);
      if (fetched.not_modified) {
        store->note_source_fetch(source, "", now_ms());
        fmt::print("{}: unchanged (HTTP 304)\n", source);
        continue;
      }
      error = fetched.error;
      text = std::move(fetched.body);
      etag = std::move(fetched.etag);
      last_modified = std::move(fetched.last_modified);
    } else if (auto file = read_list_file(source, error)) {
      text = std::move(*file);
    }
    if (!error.empty()) {
      ++failures;
      fmt::print(stderr, "cjcrawl: import {}: {}\n", source, error);
      try {
        store->note_source_fetch(source, error, now_ms());
      } catch (const std::exception&) {
      }
      continue;
    }
    const auto parsed = blacklist::import_list(text, forced);
    std::vector<db::Store::ListedEntry> entries;
    entries.reserve(parsed.entries.size());
    std::map<std::string, std::size_t> by_kind;
    for (const auto& entry : parsed.entries) {
      entries.push_back({std::string(blacklist::to_string(entry.kind)), entry.value});
      ++by_kind[std::string(blacklist::to_string(entry.kind))];
    }
    try {
      const auto change = store->replace_source_entries(source, blacklist::to_string(parsed.format), entries, etag,
                                                        last_modified, args.confidence, now_ms());
      std::string kinds;
      for (const auto& [kind, count] : by_kind) kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", count, kind);
      fmt::print("{}: {} ({}), {} entries ({}); {} new, {} removed upstream, {} listed again\n", source,
                 blacklist::to_string(parsed.format), parsed.format_detected ? "detected" : "forced", change.listed,
                 kinds.empty() ? "none" : kinds, change.added, change.removed, change.relisted);
      for (const auto& [kind, skipped] : parsed.skipped)
        fmt::print("  skipped {} × {} (first at line {}: {})\n", skipped.count, blacklist::to_string(kind),
                   skipped.sample_line, crawler::terminal_safe(skipped.sample_reason, 160));
    } catch (const std::exception& e) {
      ++failures;
      fmt::print(stderr, "cjcrawl: import {}: not stored: {}\n", source, e.what());
    }
  }
  return failures ? kExitCouldNotCheck : kExitClean;
}

struct ExportArgs {
  std::string format;
  std::vector<std::string> kinds;
  std::string source = "all";
  std::string since;
  int min_confidence = 0;
  int max_age_days = 0;
  std::string output;
  std::string db_path = default_db_path();
};

// Exports are reproducible: SOURCE_DATE_EPOCH, when set, is "now" for headers and the RPZ serial.
std::int64_t export_clock_ms() {
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    if (auto parsed = crawler::parse_time_ms(epoch)) return *parsed;
  }
  return now_ms();
}

// `cjcrawl export`: the active blacklist in one format, to stdout or -o FILE (written to a temporary
// file, then renamed, so a reader never sees half a list).
int run_export(const ExportArgs& args) {
  const auto format = db::parse_format(args.format);
  if (!format)
    return usage_error(fmt::format("--format {}: expected hosts, domains, adblock, rpz, csv, json, jsonl or stix",
                                   args.format));
  static const std::set<std::string> kKinds{"page", "domain", "script_url", "script_path", "ws_endpoint",
                                            "ip", "wasm_sha256", "allow"};
  for (const auto& kind : args.kinds)
    if (!kKinds.contains(kind)) return usage_error(fmt::format("--kind {}: not a blacklist kind", kind));
  if (args.source != "all" && args.source != "crawl" && args.source != "import")
    return usage_error(fmt::format("--source {}: expected crawl, import or all", args.source));
  const std::int64_t now = export_clock_ms();
  db::Store::ExportFilter filter;
  filter.kinds = args.kinds;
  filter.source = args.source;
  filter.min_confidence = args.min_confidence;
  if (!args.since.empty()) {
    const auto since = crawler::parse_time_ms(args.since);
    if (!since) return usage_error(fmt::format("--since {}: expected Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", args.since));
    filter.seen_since_ms = *since;
  }
  if (args.max_age_days > 0)
    filter.seen_since_ms = std::max(filter.seen_since_ms, now - std::int64_t{args.max_age_days} * 86'400'000);

  std::vector<db::ExportEntry> entries;
  try {
    const auto store = db::Store::open(args.db_path);
    entries = store.export_entries(filter);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: cannot read the database {}: {}\n", args.db_path, e.what());
    return kExitCouldNotCheck;
  }
  db::ExportOptions options;
  options.now_ms = now;
  options.include_pages = std::find(args.kinds.begin(), args.kinds.end(), "page") != args.kinds.end();
  const auto rendered = db::render_export(*format, entries, options);

  if (args.output.empty() || args.output == "-") {
    std::cout << rendered.text << std::flush;
  } else {
    const std::string temporary = args.output + ".tmp";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << rendered.text;
      if (!out.flush()) {
        fmt::print(stderr, "cjcrawl: cannot write {}\n", temporary);
        return kExitCouldNotCheck;
      }
    }
    std::error_code ec;
    fs::rename(temporary, args.output, ec);
    if (ec) {
      fmt::print(stderr, "cjcrawl: cannot write {}: {}\n", args.output, ec.message());
      return kExitCouldNotCheck;
    }
  }
  fmt::print(stderr, "cjcrawl: exported {} {} of {} entries ({} left out as unsafe for the format, {} allowed)\n",
             rendered.written, db::is_line_format(*format) ? "rules" : "entries", entries.size(), rendered.skipped,
             rendered.allowed);
  for (const auto& sample : rendered.skipped_samples)
    fmt::print(stderr, "  left out {} {}: {}\n", sample.kind, sample.value, sample.reason);
  return kExitClean;
}

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  std::string db_path = default_db_path();
  std::size_t max_connections = 256;
  double header_timeout_seconds = 10;
  double idle_timeout_seconds = 15;
  double write_timeout_seconds = 120;
};

// `cjcrawl serve`: the blacklist feeds, the API and the dashboard over HTTP, read-only, until
// SIGINT or SIGTERM (then exit 0: stopping a server is its normal end).
int run_serve(const ServeArgs& args) {
  std::string problem;
  const auto endpoint = crawler::parse_listen(args.listen, problem);
  if (!endpoint) return usage_error(fmt::format("--listen {}: {}", args.listen, problem));
  if (args.max_connections < 1 || args.max_connections > 100'000)
    return usage_error(fmt::format("--max-connections {}: expected 1 to 100000", args.max_connections));
  for (const double seconds : {args.header_timeout_seconds, args.idle_timeout_seconds, args.write_timeout_seconds})
    if (!(seconds >= 0.1 && seconds <= 3600)) return usage_error("timeouts: expected 0.1 to 3600 seconds");
  const auto milliseconds = [](double seconds) { return std::chrono::milliseconds(static_cast<long>(seconds * 1000)); };

  asio::io_context io(1);
  std::optional<crawler::FeedService> service;
  try {
    service.emplace(args.db_path, io.get_executor());
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: cannot serve {}: {}\n", args.db_path, e.what());
    return kExitCouldNotCheck;
  }
  crawler::ServeOptions options;
  options.listen = *endpoint;
  options.max_connections = args.max_connections;
  options.header_timeout = milliseconds(args.header_timeout_seconds);
  options.idle_timeout = milliseconds(args.idle_timeout_seconds);
  options.write_timeout = milliseconds(args.write_timeout_seconds);
  crawler::FeedServer server(io, *service, options);
  boost::asio::ip::tcp::endpoint bound;
  try {
    bound = server.bind();
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: {}\n", e.what());
    return kExitCouldNotCheck;
  }
  if (!bound.address().is_loopback())
    fmt::print(stderr, "cjcrawl: warning: serving on {}, not loopback: anyone who can reach it can read the "
                       "blacklist and every visit's evidence\n", bound.address().to_string());
  const std::string host =
      bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  // stdout, one line, flushed: scripts and tests read the address (with --listen :0, the port) here.
  fmt::print("cjcrawl: serving {} on http://{}:{}/ (Ctrl-C to stop)\n", args.db_path, host, bound.port());
  std::fflush(stdout);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (error) return;
    server.stop();
    io.stop();
  });
  asio::co_spawn(io, server.run(), asio::detached);
  io.run();
  return kExitClean;
}

// Options shared by check and crawl: the database, rules, Chrome and the CPU rule.
void add_visit_options(CLI::App* command, CheckArgs& args) {
  command->add_option("--db", args.db_path, "SQLite database ($CJCRAWL_DB, default ./cjcrawl.db)");
  command->add_option("--rules", args.rules, "Rules directory (default: see --version)");
  command->add_option("--chrome", args.chrome, "Chrome binary (default: $CJCRAWL_CHROME, /usr/lib/chromium/chromium, ...)");
  command->add_option("--chrome-arg", args.chrome_args, "Extra Chrome flag (repeatable); sandbox, DevTools and profile flags are refused")
      ->allow_extra_args(false);
  command->add_option("--chrome-user", args.chrome_user, "Unprivileged user Chrome runs as when cjcrawl is root")
      ->capture_default_str();
  command->add_flag("--unsafe-no-sandbox", args.unsafe_no_sandbox, "Run Chrome without its sandbox (dangerous)");
  command->add_flag("--no-interaction", args.no_interaction,
                    "Do not move the mouse and scroll after load (miners that wait for a gesture then stay idle)");
  command->add_flag("--no-late-watch", args.no_late_watch,
                    "Decide within one CPU window even when a worker's socket, miner keywords or Wasm suggest a late start");
  command->add_flag("--no-early-stop", args.no_early_stop,
                    "Sample exactly one CPU window per site, as the original method did (a baseline; slower)");
  command->add_flag("--headless-profile", args.headless_profile,
                    "Show pages Chrome's own headless identity (HeadlessChrome user agent, navigator.webdriver) "
                    "instead of a desktop browser's");
  command->add_option("--deadline", args.deadline_seconds, "Site deadline in seconds: launch, load and sampling")
      ->capture_default_str();
  command->add_option("--load-timeout", args.load_timeout_seconds, "Start sampling after this many seconds without a load event")
      ->capture_default_str();
  command->add_option("--sample-period", args.sample_period_ms, "CPU sampling period in ms")->capture_default_str();
  command->add_option("--window", args.rule.window, "CPU rule window, in samples")->capture_default_str();
  command->add_option("--threshold", args.rule.threshold_percent, "CPU rule threshold, % of one core")->capture_default_str();
  command->add_option("--ratio", args.rule.ratio, "Share of a window that must exceed the threshold")->capture_default_str();
}

// An entry holds a hash and a few keyword counts (well under 1 KB), so this bounds the cache to
// tens of MB.
constexpr int kMaxScriptCache = 100'000;

struct CrawlArgs {
  std::string input_path;
  std::string out;
  std::optional<int> concurrency;  // default: the number of cores
  int retries = 1;
  std::optional<std::size_t> limit;
  std::string shard;
  bool resume = false;
  std::optional<std::int64_t> crawl_id;
  int failure_budget = 10;
  int recycle_after = 50;
  int memory_cap_mb = 1536;
  int script_cache = 4096;  // entries of blacklist::ScanCache; 0: off
  bool quiet = false;
  CheckArgs visit;
};

// `cjcrawl crawl`: see crawler/crawl.hpp. Exit 0 when the crawl completed (whatever the verdicts),
// 1 when aborted or when sites could not be checked, 2 for usage errors, 130 when interrupted.
int run_crawl(CrawlArgs& args) {
  if (auto usage = check_visit_args(args.visit)) return *usage;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int concurrency = args.concurrency.value_or(cores);
  if (concurrency < 1 || concurrency > 64)
    return usage_error(fmt::format("--concurrency {}: expected 1 to 64", concurrency));
  if (args.retries < 0 || args.retries > 5) return usage_error(fmt::format("--retries {}: expected 0 to 5", args.retries));
  if (args.failure_budget < 1) return usage_error("--failure-budget: expected 1 or more");
  if (args.recycle_after < 1) return usage_error(fmt::format("--recycle-after {}: expected 1 or more", args.recycle_after));
  if (args.memory_cap_mb < 64)
    return usage_error(fmt::format("--memory-cap {}: expected 64 (MB) or more", args.memory_cap_mb));
  if (args.script_cache < 0 || args.script_cache > kMaxScriptCache)
    return usage_error(fmt::format("--script-cache {}: expected 0 to {}", args.script_cache, kMaxScriptCache));
  std::optional<crawler::Shard> shard;
  if (!args.shard.empty()) {
    std::string problem;
    shard = crawler::parse_shard(args.shard, &problem);
    if (!shard) return usage_error(fmt::format("--shard {}: {}", args.shard, problem));
  }
  if (concurrency > cores)
    fmt::print(stderr, "cjcrawl: warning: --concurrency {} is more than the {} cores: pages share cores, so crawling "
                       "is slower per site and CPU readings lean on the run-queue wait (see README)\n", concurrency, cores);

  // Step 1: the list. Bad lines are reported with their line numbers and skipped.
  auto read = crawler::read_crawl_input(args.input_path);
  if (!read.error.empty()) return usage_error(read.error);
  auto parsed = crawler::parse_crawl_input(read.text);
  const std::string shown_path = args.input_path == "-" ? "standard input" : args.input_path;
  for (const auto& problem : parsed.invalid)
    fmt::print(stderr, "cjcrawl: {}:{}: skipped: {}: {}\n", shown_path, problem.line, problem.reason, problem.text);
  if (parsed.invalid_lines > parsed.invalid.size())
    fmt::print(stderr, "cjcrawl: {}: {} more invalid lines not shown\n", shown_path, parsed.invalid_lines - parsed.invalid.size());
  auto targets = crawler::select_targets(std::move(parsed.targets), shard, args.limit);
  // Invalid lines are also results (status `skipped`), so nothing in the list vanishes from --out.
  const auto invalid = crawler::select_invalid(parsed.invalid, shard, args.limit, targets);
  const std::string selection = fmt::format("shard={} limit={}", shard ? fmt::format("{}/{}", shard->index, shard->count) : "all",
                                            args.limit ? std::to_string(*args.limit) : "none");
  std::string input_path = args.input_path;
  if (input_path != "-") {
    std::error_code error;
    const auto canonical = fs::canonical(input_path, error);
    if (!error) input_path = canonical.string();
  }
  const std::string digest = crawler::input_digest(read.text);
  std::string().swap(read.text);  // parsed and hashed: a million-line list need not stay in memory

  auto found = find_rules_and_chrome(args.visit);
  if (const int* exit_code = std::get_if<int>(&found)) return *exit_code;
  auto& [loaded, chrome] = std::get<1>(found);

  std::optional<db::Store> store;
  std::optional<db::Store::CrawlRow> crawl;
  std::vector<std::int64_t> recorded;
  try {
    store.emplace(db::Store::open(args.visit.db_path));
    // Step 2: a new crawl, or the one to resume, and what it has recorded already.
    if (args.crawl_id) {
      crawl = store->crawl(*args.crawl_id);
      if (!crawl) return usage_error(fmt::format("--crawl-id {}: no such crawl (see `cjcrawl crawls`)", *args.crawl_id));
      if (crawl->input_digest != digest || crawl->selection != selection)
        return usage_error(fmt::format("--crawl-id {}: that crawl read other input ({}, {}); give it the same list and "
                                       "--shard/--limit", *args.crawl_id, crawl->input_path, crawl->selection));
    } else if (args.resume) {
      crawl = store->find_crawl(input_path, digest, selection);
      if (!crawl)
        fmt::print(stderr, "cjcrawl: --resume: no earlier crawl of {} with this content and selection; starting a new one\n",
                   shown_path);
    }
    if (crawl) {
      recorded = store->crawl_positions(crawl->id);
    } else {
      db::Store::CrawlRow row;
      row.started_ms = now_ms();
      row.input_path = input_path;
      row.input_digest = digest;
      row.selection = selection;
      row.total = static_cast<std::int64_t>(targets.size() + invalid.size());
      row.options_json = nlohmann::json{{"concurrency", concurrency}, {"retries", args.retries},
                                        {"deadline_seconds", args.visit.deadline_seconds},
                                        {"sample_period_ms", args.visit.sample_period_ms}}
                             .dump();
      crawl = *store->crawl(store->begin_crawl(row));
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: the database {}: {}\n", args.visit.db_path, e.what());
    return kExitCouldNotCheck;
  }
  // What is left to visit, in place (a million-site list is not copied): `done` is sorted positions.
  std::vector<std::int64_t> done = recorded;
  std::sort(done.begin(), done.end());
  const auto is_done = [&](std::size_t line) {
    return std::binary_search(done.begin(), done.end(), static_cast<std::int64_t>(line));
  };
  const std::size_t selected_sites = targets.size();
  std::erase_if(targets, [&](const crawler::CrawlTarget& target) { return is_done(target.line); });
  const auto& remaining = targets;
  const std::size_t sites_done = selected_sites - remaining.size();

  // Step 3: the output. A resumed file is reconciled with the database first.
  std::FILE* out = stdout;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out_file(nullptr, &std::fclose);
  const bool continuing = args.resume || args.crawl_id;
  if (!args.out.empty() && args.out != "-") {
    try {
      if (continuing) {
        const auto appended = crawler::reconcile_output(args.out, crawl->id, recorded, [&](std::int64_t position) {
          return store->crawl_line(crawl->id, position);
        });
        if (appended) fmt::print(stderr, "cjcrawl: {}: {} recorded site(s) were missing; written\n", args.out, appended);
      }
    } catch (const std::exception& e) {
      fmt::print(stderr, "cjcrawl: --out: {}\n", e.what());
      return kExitCouldNotCheck;
    }
    // A new crawl starts its file afresh; a continued one appends.
    out_file.reset(std::fopen(args.out.c_str(), continuing ? "a" : "w"));
    if (!out_file) {
      fmt::print(stderr, "cjcrawl: cannot write {}: {}\n", args.out, std::strerror(errno));
      return kExitCouldNotCheck;
    }
    out = out_file.get();
  }
  fmt::print(stderr, "cjcrawl: crawl {}: {} site(s) from {} ({}), {} already recorded, {} to visit; {} duplicate and "
                     "{} invalid line(s) (`skipped` lines)\n",
             crawl->id, selected_sites, shown_path, crawler::to_string(parsed.format), sites_done, remaining.size(),
             parsed.duplicates, parsed.invalid_lines);

  const int orphans = cdp::remove_orphaned_profiles();
  if (orphans > 0) spdlog::info("removed {} Chrome profile(s) left by an earlier, killed cjcrawl", orphans);
  std::optional<blacklist::Detector> detector_holder;
  try {
    detector_holder.emplace(std::move(loaded.rules), store->known_entries(), !args.visit.no_late_watch);
    store->set_crawl_state(crawl->id, "running", 0);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: the database {}: {}\n", args.visit.db_path, e.what());
    return kExitCouldNotCheck;
  }
  const blacklist::Detector& detector = *detector_holder;
  // The invalid lines first: recorded in one transaction, then written, as sites are.
  std::vector<db::Store::SkippedLine> skipped;
  for (const auto& problem : invalid) {
    if (!is_done(problem.line)) skipped.push_back(crawler::skipped_line(detector, args.visit.rule, crawl->id, problem));
  }
  try {
    store->record_skipped(crawl->id, skipped, now_ms());
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: the database {}: {}\n", args.visit.db_path, e.what());
    return kExitCouldNotCheck;
  }
  for (const auto& line : skipped) {
    if (std::fprintf(out, "%s\n", line.line.c_str()) < 0 || std::fflush(out) != 0) {
      fmt::print(stderr, "cjcrawl: writing the JSON lines failed: {}\n", std::strerror(errno));
      return kExitCouldNotCheck;
    }
  }
  crawler::CrawlOptions options;
  options.visit = visit_options(args.visit, chrome, detector);
  // Lives as long as the detector whose findings it remembers (scan_cache.hpp).
  blacklist::ScanCache scan_cache(static_cast<std::size_t>(args.script_cache));
  if (args.script_cache > 0) options.visit.scan_cache = &scan_cache;
  options.concurrency = concurrency;
  options.retries = args.retries;
  options.failure_budget = args.failure_budget;
  options.recycle_after = args.recycle_after;
  options.memory_cap_bytes = static_cast<std::uint64_t>(args.memory_cap_mb) << 20;
  options.progress = !args.quiet && ::isatty(STDERR_FILENO);
  const auto on_line = [&](const std::string& line) {
    return std::fprintf(out, "%s\n", line.c_str()) >= 0 && std::fflush(out) == 0;
  };
  const auto summary = crawler::run_crawl(*store, detector, crawl->id, remaining, options, on_line, selected_sites, sites_done);

  // Step 4: the crawl's state and a summary.
  const bool complete = !summary.interrupted && !summary.aborted && summary.not_checked == 0 &&
                        sites_done + summary.recorded == selected_sites;
  const char* state = complete ? "completed" : summary.interrupted ? "interrupted" : "aborted";
  try {
    store->set_crawl_state(crawl->id, state, now_ms());
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: cannot record the crawl's end: {}\n", e.what());
  }
  std::string verdicts;
  for (const auto& [verdict, count] : summary.verdicts) verdicts += fmt::format(" {} {}", verdict, count);
  std::string statuses;
  for (const auto& [status, count] : summary.statuses) statuses += fmt::format(" {} {}", status, count);
  fmt::print(stderr, "cjcrawl: crawl {} {}: {} site(s) recorded this run in {:.0f} s ({:.1f}/min);{}; status:{}{}\n",
             crawl->id, state, summary.recorded, summary.elapsed_seconds,
             summary.elapsed_seconds > 0 ? summary.recorded * 60 / summary.elapsed_seconds : 0.0,
             verdicts.empty() ? " no verdicts" : verdicts, statuses.empty() ? " none" : statuses,
             summary.not_checked ? fmt::format("; {} not checked (cjcrawl could not run them; --resume retries them)",
                                               summary.not_checked)
                                 : "");
  std::string retired;
  for (const auto& [why, count] : summary.browsers_retired) retired += fmt::format("{}{} {}", retired.empty() ? "" : ", ", why, count);
  fmt::print(stderr, "cjcrawl: browsers: {} launched; replaced: {}\n", summary.browsers_launched,
             retired.empty() ? "none" : retired);
  // What the crawl cost: cjcrawl's own CPU against Chrome's (every Chrome process is a reaped
  // descendant, so RUSAGE_CHILDREN holds all of them), and cjcrawl's peak memory.
  rusage self{};
  rusage children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  const auto seconds = [](const rusage& usage) {
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  fmt::print(stderr,
             "cjcrawl: resources: cjcrawl {:.2f} CPU-s, Chrome {:.2f} CPU-s ({:.2f}% of Chrome's), cjcrawl peak RSS {} "
             "MB; {} script(s) not read again (scanned on an earlier site)\n",
             seconds(self), seconds(children), seconds(children) > 0 ? 100 * seconds(self) / seconds(children) : 0.0,
             self.ru_maxrss / 1024, scan_cache.hits());
  if (summary.aborted) {
    fmt::print(stderr, "cjcrawl: crawl aborted: {}\n", summary.abort_reason);
    return kExitCouldNotCheck;
  }
  if (summary.interrupted) {
    fmt::print(stderr, "cjcrawl: interrupted; `cjcrawl crawl {} --resume` continues where this stopped\n", args.input_path);
    return kExitInterrupted;
  }
  if (!complete)
    fmt::print(stderr, "cjcrawl: {} site(s) not recorded; `cjcrawl crawl {} --resume` retries them\n",
               selected_sites - sites_done - summary.recorded, args.input_path);
  return complete ? kExitClean : kExitCouldNotCheck;
}

// `cjcrawl crawls`: one line per crawl.
int run_crawls(const std::string& db_path) {
  try {
    const auto store = db::Store::open(db_path);
    fmt::print("{:>5}  {:<11}  {:>15}  {:<20}  {}\n", "id", "state", "recorded/total", "started (UTC)", "input");
    for (const auto& crawl : store.crawls())
      fmt::print("{:>5}  {:<11}  {:>15}  {:<20}  {} ({})\n", crawl.id, crawl.state,
                 fmt::format("{}/{}", crawl.done, crawl.total), db::format_rfc3339_seconds(crawl.started_ms),
                 crawler::terminal_safe(crawl.input_path), crawl.selection);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cjcrawl: cannot read the database {}: {}\n", db_path, e.what());
    return kExitCouldNotCheck;
  }
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
  int verbose = 0;
  std::optional<fs::path> version_rules;
  app.add_flag("--version", show_version, "Print the version, the rules directory in use, and the Chrome found");
  app.add_option("--rules", version_rules, "Rules directory (with --version)");
  app.add_flag("-v,--verbose", verbose,
               "Log protocol details to stderr; twice (-vv) also every CDP message, each cut to 1,000 bytes");
  app.require_subcommand(0, 1);

  CheckArgs check;
  auto* check_cmd = app.add_subcommand("check", "Visit one site in sandboxed headless Chrome and give a verdict");
  check_cmd->add_option("URL", check.input, "http(s) URL or bare host name")->required();
  check_cmd->add_flag("--json", check.json, "Print one JSON object (schema in README) instead of the summary");
  add_visit_options(check_cmd, check);

  CrawlArgs crawl;
  auto* crawl_cmd = app.add_subcommand("crawl", "Crawl a list of sites (URLs, domains or rank,domain CSV) through N sandboxed Chromes");
  crawl_cmd->add_option("INPUT", crawl.input_path, "List file, or - for standard input")->required();
  crawl_cmd->add_option("--out", crawl.out, "Write one JSON line per site here (default: stdout); a new crawl starts the file afresh, --resume appends");
  crawl_cmd->add_option("--concurrency", crawl.concurrency, "Slots, each one Chrome visiting one site at a time (default: cores)");
  crawl_cmd->add_option("--retries", crawl.retries, "Extra visits after a crash or a network error")->capture_default_str();
  crawl_cmd->add_option("--limit", crawl.limit, "Crawl at most N sites (after --shard)");
  crawl_cmd->add_option("--shard", crawl.shard, "I/N: only this machine's share of the list (0/N to N-1/N)");
  crawl_cmd->add_flag("--resume", crawl.resume, "Continue the crawl of this same input (path and content)");
  crawl_cmd->add_option("--crawl-id", crawl.crawl_id, "Continue this crawl (see `cjcrawl crawls`)");
  crawl_cmd->add_option("--failure-budget", crawl.failure_budget, "Consecutive failures that stop a slot")->capture_default_str();
  crawl_cmd->add_option("--recycle-after", crawl.recycle_after, "Replace each slot's Chrome after this many sites (1: a fresh Chrome per site)")->capture_default_str();
  crawl_cmd->add_option("--memory-cap", crawl.memory_cap_mb, "Replace a Chrome whose processes use more than this many MB (PSS)")->capture_default_str();
  crawl_cmd->add_option("--script-cache", crawl.script_cache, "Remember the keyword findings of this many scripts by content hash, so a script seen on an earlier site is not read again (0: off)")->capture_default_str();
  crawl_cmd->add_flag("-q,--quiet", crawl.quiet, "No progress line");
  add_visit_options(crawl_cmd, crawl.visit);

  std::string crawls_db = default_db_path();
  auto* crawls_cmd = app.add_subcommand("crawls", "List the crawls in the database");
  crawls_cmd->add_option("--db", crawls_db, "SQLite database ($CJCRAWL_DB, default ./cjcrawl.db)");

  ImportArgs import;
  auto* import_cmd = app.add_subcommand("import", "Import public blocklists (files or http(s) URLs) into the blacklist");
  import_cmd->add_option("SOURCE", import.sources, "List file or http(s) URL (repeatable)")->required();
  import_cmd->add_option("--format", import.format, "adblock, hosts, domains, ips or webext (default: detect)");
  import_cmd->add_option("--db", import.db_path, "SQLite database ($CJCRAWL_DB, default ./cjcrawl.db)");
  import_cmd->add_option("--confidence", import.confidence, "Confidence given to imported entries, 0-100")
      ->capture_default_str();

  ExportArgs exporting;
  auto* export_cmd = app.add_subcommand("export", "Write the blacklist as a feed file (hosts, adblock, rpz, stix, ...)");
  export_cmd->add_option("--format", exporting.format, "hosts, domains, adblock, rpz, csv, json, jsonl or stix")
      ->required();
  export_cmd->add_option("--kind", exporting.kinds, "Only these kinds (repeatable); line formats carry pages only with --kind page")
      ->allow_extra_args(false);
  export_cmd->add_option("--source", exporting.source, "crawl, import or all")->capture_default_str();
  export_cmd->add_option("--since", exporting.since, "Only entries seen since TIME (Unix seconds or YYYY-MM-DD[THH:MM:SSZ])");
  export_cmd->add_option("--min-confidence", exporting.min_confidence, "Only entries at least this confident");
  export_cmd->add_option("--max-age", exporting.max_age_days, "Only entries seen in the last DAYS days");
  export_cmd->add_option("-o,--output", exporting.output, "Write to FILE instead of stdout");
  export_cmd->add_option("--db", exporting.db_path, "SQLite database ($CJCRAWL_DB, default ./cjcrawl.db)");

  ServeArgs serving;
  auto* serve_cmd = app.add_subcommand("serve", "Serve the blacklist feeds, a JSON API and a dashboard over HTTP (read-only)");
  serve_cmd->add_option("--listen", serving.listen, "HOST:PORT to listen on (IP literal or localhost; port 0: any)")
      ->capture_default_str();
  serve_cmd->add_option("--db", serving.db_path, "SQLite database ($CJCRAWL_DB, default ./cjcrawl.db)");
  serve_cmd->add_option("--max-connections", serving.max_connections, "Connections served at once; more get 503")
      ->capture_default_str();
  serve_cmd->add_option("--header-timeout", serving.header_timeout_seconds, "Seconds for a client to send its first request")
      ->capture_default_str();
  serve_cmd->add_option("--idle-timeout", serving.idle_timeout_seconds, "Seconds a keep-alive connection may wait for its next request")
      ->capture_default_str();
  serve_cmd->add_option("--write-timeout", serving.write_timeout_seconds, "Seconds for a client to take one response")
      ->capture_default_str();

  // `cjcrawl crawl list.txt -vv` as well as `cjcrawl -vv crawl list.txt`. (Not app.fallthrough(): that
  // would also take the top-level --rules, meant for --version, after a command that has none.)
  for (auto* command : app.get_subcommands([](CLI::App*) { return true; }))
    command->add_flag("-v,--verbose", verbose, "Log protocol details to stderr; -vv also every CDP message");

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
  if (verbose > 0) spdlog::set_level(verbose > 1 ? spdlog::level::trace : spdlog::level::debug);
  if (verbose > 1) spdlog::set_pattern("cjcrawl: %H:%M:%S.%e %l: %v");  // a protocol trace needs its times
  if (show_version) {
    fmt::print("{}\n", version_text(version_rules));
    return kExitClean;
  }
  if (check_cmd->parsed()) return run_check(check);
  if (crawl_cmd->parsed()) return run_crawl(crawl);
  if (crawls_cmd->parsed()) return run_crawls(crawls_db);
  if (import_cmd->parsed()) return run_import(import);
  if (export_cmd->parsed()) return run_export(exporting);
  if (serve_cmd->parsed()) return run_serve(serving);
  fmt::print(stderr, "{}", app.help());
  return kExitUsage;
}
