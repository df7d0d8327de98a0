// crawler/main.cpp — the `cjcrawl` command line.
//
// Subcommands: `check URL` (one site, end to end), `import SOURCE...` (public blocklists), `export`
// (the blacklist as a feed file), `serve` (feeds, API and dashboard over HTTP). Exit codes are documented in README.md:
//   0 checked, not cryptojacking · 3 cryptojacking · 1 could not check · 2 usage error · 130 interrupted
// This is the only place where work is spawned detached from an owner: the top-level task.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <ctime>
#include <map>
#include <set>
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
#include "blacklist/list_import.hpp"
#include "crawler/feed.hpp"
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
  if (import_cmd->parsed()) return run_import(import);
  if (export_cmd->parsed()) return run_export(exporting);
  if (serve_cmd->parsed()) return run_serve(serving);
  fmt::print(stderr, "{}", app.help());
  return kExitUsage;
}
