// crawler/cli/crawl.cpp — `cjcrawl crawl LIST`: see crawler/crawl.hpp for the crawl itself. Here, in
// steps: the arguments, the list (bad lines reported and kept as `skipped` lines), the crawl to run
// (new, resumed by content, or named by --crawl-id) and what it has recorded, the output (a resumed
// one repaired first), the skipped lines, the crawl, and its summary. Exit 0 when the crawl completed
// (whatever the verdicts), 1 when aborted or when sites could not be checked, 2 for usage errors,
// 130 when interrupted.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "blacklist/scan_cache.hpp"
#include "cdp/chrome_process.hpp"
#include "crawler/cli/commands.hpp"
#include "crawler/crawl.hpp"
#include "crawler/crawl_input.hpp"
#include "crawler/metrics.hpp"
#include "crawler/metrics_server.hpp"
#include "crawler/report.hpp"
#include "crawler/serve.hpp"
#include "db/pg.hpp"
#include "db/queue.hpp"
#include "util/clock.hpp"
#include "util/cpus.hpp"

namespace crawler::cli {
namespace {

namespace fs = std::filesystem;

// An entry holds a hash and a few keyword counts (well under 1 KB), so this bounds the cache to
// tens of MB.
constexpr int kMaxScriptCache = 100'000;
constexpr int kMaxConcurrency = 64;

int cores() {
  // The CPUs this process may use (a pod's CPU limit, the affinity mask), not the node's.
  return util::available_cpus();
}

// The list, read and parsed, with the sites and the invalid lines this run's selection takes.
struct CrawlList {
  std::vector<crawler::CrawlTarget> targets;
  std::vector<crawler::InputProblem> invalid;
  std::string shown_path;  // "standard input" or the path as given
  std::string input_path;  // absolute when it is a file
  std::string digest;      // SHA-256 of its bytes
  std::string selection;   // "shard=I/N limit=L"
  crawler::InputFormat format{};
  std::size_t duplicates = 0;
  std::size_t invalid_lines = 0;
};

util::Result<CrawlList> read_list(const CrawlArgs& args) {
  std::optional<crawler::Shard> shard;
  if (!args.shard.empty()) {
    auto parsed_shard = crawler::parse_shard(args.shard);
    if (!parsed_shard)
      return usage(fmt::format("--shard {}: {}", terminal_safe(args.shard), parsed_shard.error().message));
    shard = *parsed_shard;
  }
  auto read = crawler::read_crawl_input(args.input_path);
  if (!read) return usage(read.error().message);
  const std::string& text = *read;
  auto parsed = crawler::parse_crawl_input(text);
  CrawlList list;
  list.shown_path = args.input_path == "-" ? "standard input" : args.input_path;
  for (const auto& problem : parsed.invalid)
    fmt::print(stderr, "cjcrawl: {}:{}: skipped: {}: {}\n", list.shown_path, problem.line, problem.reason,
               problem.text);
  if (parsed.invalid_lines > parsed.invalid.size())
    fmt::print(stderr, "cjcrawl: {}: {} more invalid lines not shown\n", list.shown_path,
               parsed.invalid_lines - parsed.invalid.size());
  // A list with no site in it is a mistake (the wrong file, a CSV whose column was not found), not a
  // crawl of nothing: refused before any crawl is recorded.
  if (parsed.targets.empty())
    return usage(fmt::format("{} has no site in it ({} line(s): {} invalid, the rest blank or comments)",
                             list.shown_path, parsed.lines, parsed.invalid_lines));
  list.targets = crawler::select_targets(std::move(parsed.targets), shard, args.limit);
  // Invalid lines are also results (status `skipped`), so nothing in the list vanishes from --out.
  list.invalid = crawler::select_invalid(parsed.invalid, shard, args.limit, list.targets);
  list.selection = fmt::format("shard={} limit={}", shard ? fmt::format("{}/{}", shard->index, shard->count) : "all",
                               args.limit ? std::to_string(*args.limit) : "none");
  list.input_path = args.input_path;
  if (list.input_path != "-") {
    std::error_code error;
    const auto canonical = fs::canonical(list.input_path, error);
    if (!error) list.input_path = canonical.string();
  }
  list.digest = crawler::input_digest(text);
  list.format = parsed.format;
  list.duplicates = parsed.duplicates;
  list.invalid_lines = parsed.invalid_lines;
  return list;  // (the text was parsed and hashed: a million-line list need not stay in memory)
}

// The crawl this run continues or starts, and the positions it has recorded already.
struct CrawlRecord {
  db::Store::CrawlRow row;
  std::vector<std::int64_t> recorded;  // sorted
};

util::Result<CrawlRecord> choose_crawl(db::Store& store, const CrawlArgs& args, const CrawlList& list,
                                       int concurrency) {
  const std::string doing = fmt::format("the database {}", db::shown_location(args.visit.db_path));
  std::optional<db::Store::CrawlRow> crawl;
  if (args.crawl_id) {
    auto found = store.crawl(*args.crawl_id);
    if (!found) return database_failure(doing, found.error());
    crawl = *found;
    if (!crawl) return usage(fmt::format("--crawl-id {}: no such crawl (see `cjcrawl crawls`)", *args.crawl_id));
    if (crawl->input_digest != list.digest || crawl->selection != list.selection)
      return usage(
          fmt::format("--crawl-id {}: that crawl read other input ({}, {}); give it the same list and "
                      "--shard/--limit",
                      *args.crawl_id, crawl->input_path, crawl->selection));
  } else if (args.resume) {
    auto found = store.find_crawl(list.input_path, list.digest, list.selection);
    if (!found) return database_failure(doing, found.error());
    crawl = *found;
    if (!crawl)
      fmt::print(stderr,
                 "cjcrawl: --resume: no earlier crawl of {} with this content and selection; starting a new one\n",
                 list.shown_path);
  }
  CrawlRecord record;
  if (crawl) {
    auto positions = store.crawl_positions(crawl->id);
    if (!positions) return database_failure(doing, positions.error());
    record.row = *crawl;
    record.recorded = std::move(positions).value();
    std::sort(record.recorded.begin(), record.recorded.end());
    return record;
  }
  db::Store::CrawlRow row;
  row.started_ms = util::wall_ms();
  row.input_path = list.input_path;
  row.input_digest = list.digest;
  row.selection = list.selection;
  row.total = static_cast<std::int64_t>(list.targets.size() + list.invalid.size());
  row.options_json = nlohmann::json{{"concurrency", concurrency},
                                    {"retries", args.retries},
                                    {"deadline_seconds", args.visit.deadline_seconds},
                                    {"sample_period_ms", args.visit.sample_period_ms}}
                         .dump();
  auto id = store.begin_crawl(row);
  if (!id) return database_failure(doing, id.error());
  row.id = *id;
  record.row = row;
  return record;
}

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// --out (a continued crawl's file repaired first), or stdout.
util::Result<File> open_output(db::Store& store, const CrawlArgs& args, const CrawlRecord& crawl) {
  const bool continuing = args.resume || args.crawl_id;
  if (args.out.empty() || args.out == "-") return File(stdout, [](std::FILE*) { return 0; });
  if (continuing) {
    try {
      const auto appended = crawler::reconcile_output(
          args.out, crawl.row.id, crawl.recorded,
          [&](std::int64_t position) { return store.crawl_line(crawl.row.id, position).value(); });
      if (appended) fmt::print(stderr, "cjcrawl: {}: {} recorded site(s) were missing; written\n", args.out, appended);
    } catch (const util::Failure& e) {
      return database_failure(fmt::format("--out {}: reading the recorded lines", args.out), e.error());
    } catch (const std::exception& e) {
      return util::make_error(util::ErrorCode::io, "--out", e.what());
    }
  }
  // A new crawl starts its file afresh; a continued one appends.
  File file(std::fopen(args.out.c_str(), continuing ? "a" : "w"), &std::fclose);
  if (!file) return write_failure(args.out, errno);
  return file;
}

// The invalid lines first: recorded in one transaction, then written, as sites are.
util::Status record_skipped_lines(db::Store& store, const CrawlArgs& args, const CrawlList& list,
                                  const CrawlRecord& crawl, const blacklist::Detector& detector, std::FILE* out) {
  std::vector<db::Store::SkippedLine> skipped;
  for (const auto& problem : list.invalid)
    if (!std::binary_search(crawl.recorded.begin(), crawl.recorded.end(), static_cast<std::int64_t>(problem.line)))
      skipped.push_back(crawler::skipped_line(detector, args.visit.rule, crawl.row.id, problem));
  auto recorded = store.record_skipped(crawl.row.id, skipped, util::wall_ms());
  if (!recorded)
    return database_failure(fmt::format("the database {}", db::shown_location(args.visit.db_path)), recorded.error());
  for (const auto& line : skipped)
    if (std::fprintf(out, "%s\n", line.line.c_str()) < 0 || std::fflush(out) != 0)
      return util::make_error(util::ErrorCode::io, "writing the JSON lines failed", std::strerror(errno), errno);
  return {};
}

void print_summary(const crawler::CrawlSummary& summary, std::int64_t crawl_id, const char* state,
                   std::uint64_t scripts_not_read) {
  std::string verdicts;
  for (const auto& [verdict, count] : summary.verdicts) verdicts += fmt::format(" {} {}", verdict, count);
  std::string statuses;
  for (const auto& [status, count] : summary.statuses) statuses += fmt::format(" {} {}", status, count);
  fmt::print(stderr, "cjcrawl: crawl {} {}: {} site(s) recorded this run in {:.0f} s ({:.1f}/min);{}; status:{}{}\n",
             crawl_id, state, summary.recorded, summary.elapsed_seconds,
             summary.elapsed_seconds > 0 ? static_cast<double>(summary.recorded) * 60 / summary.elapsed_seconds : 0.0,
             verdicts.empty() ? " no verdicts" : verdicts, statuses.empty() ? " none" : statuses,
             summary.not_checked ? fmt::format("; {} not checked (cjcrawl could not run them; --resume retries them)",
                                               summary.not_checked)
                                 : "");
  std::string retired;
  for (const auto& [why, count] : summary.browsers_retired)
    retired += fmt::format("{}{} {}", retired.empty() ? "" : ", ", why, count);
  fmt::print(stderr, "cjcrawl: browsers: {} launched; replaced: {}\n", summary.browsers_launched,
             retired.empty() ? "none" : retired);
  // What the crawl cost: cjcrawl's own CPU against Chrome's (every Chrome process is a reaped
  // descendant, so RUSAGE_CHILDREN holds all of them), and cjcrawl's peak memory.
  rusage self{};
  rusage children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  const auto seconds = [](const rusage& usage) {
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  fmt::print(stderr,
             "cjcrawl: resources: cjcrawl {:.2f} CPU-s, Chrome {:.2f} CPU-s ({:.2f}% of Chrome's), cjcrawl peak RSS {} "
             "MB; {} script(s) not read again (scanned on an earlier site)\n",
             seconds(self), seconds(children), seconds(children) > 0 ? 100 * seconds(self) / seconds(children) : 0.0,
             self.ru_maxrss / 1024, scripts_not_read);
}

// How far the crawl is: sites its selection takes, and those recorded before this run.
struct Progress {
  std::size_t selected = 0;
  std::size_t done = 0;
};

// What is left to visit, in place (a million-site list is not copied).
Progress drop_recorded(CrawlList& list, const CrawlRecord& crawl) {
  Progress progress;
  progress.selected = list.targets.size();
  std::erase_if(list.targets, [&](const crawler::CrawlTarget& target) {
    return std::binary_search(crawl.recorded.begin(), crawl.recorded.end(), static_cast<std::int64_t>(target.line));
  });
  progress.done = progress.selected - list.targets.size();
  return progress;
}

crawler::CrawlOptions crawl_options(const CrawlArgs& args, int concurrency, const fs::path& chrome,
                                    const blacklist::Detector& detector, blacklist::ScanCache& scan_cache) {
  crawler::CrawlOptions options;
  options.visit = visit_options(args.visit, chrome, detector);
  if (args.script_cache > 0) options.visit.scan_cache = &scan_cache;
  options.concurrency = concurrency;
  options.retries = args.retries;
  options.failure_budget = args.failure_budget;
  options.recycle_after = args.recycle_after;
  options.memory_cap_bytes = static_cast<std::uint64_t>(args.memory_cap_mb) << 20;
  options.progress = !args.quiet && ::isatty(STDERR_FILENO);
  return options;
}

// The crawl's state recorded, the summary printed, and the exit code.
int finish(db::Store& store, const std::string& resume_command, std::int64_t crawl_id, const Progress& progress,
           const crawler::CrawlSummary& summary, std::uint64_t scripts_not_read) {
  const bool complete = !summary.interrupted && !summary.aborted && summary.not_checked == 0 &&
                        progress.done + summary.recorded == progress.selected;
  const char* state = complete ? "completed" : summary.interrupted ? "interrupted" : "aborted";
  if (auto ended = store.set_crawl_state(crawl_id, state, util::wall_ms()); !ended)
    fmt::print(stderr, "cjcrawl: {}\n", describe_database_error("cannot record the crawl's end", ended.error()));
  print_summary(summary, crawl_id, state, scripts_not_read);
  if (summary.aborted) return failure(fmt::format("crawl aborted: {}", summary.abort_reason));
  if (summary.interrupted) {
    fmt::print(stderr, "cjcrawl: interrupted; `{}` continues where this stopped\n", resume_command);
    return kExitInterrupted;
  }
  if (!complete)
    fmt::print(stderr, "cjcrawl: {} site(s) not recorded; `{}` retries them\n",
               progress.selected - progress.done - summary.recorded, resume_command);
  return complete ? kExitClean : kExitCouldNotCheck;
}

// A worker's metrics port (--metrics-listen), bound before any work and kept until the summary is
// printed and --metrics-linger has passed.
class WorkerMetrics {
 public:
  // nullptr without --metrics-listen; an error (a usage error for a bad address) when it cannot listen.
  static util::Result<std::unique_ptr<WorkerMetrics>> start(const CrawlArgs::Metrics& args) {
    if (args.listen.empty() && args.linger_seconds > 0)
      return usage("--metrics-linger keeps the metrics port open: it needs --metrics-listen HOST:PORT");
    if (args.listen.empty()) return std::unique_ptr<WorkerMetrics>();
    const auto endpoint = crawler::parse_listen(args.listen);
    if (!endpoint)
      return usage(fmt::format("--metrics-listen {}: {}", terminal_safe(args.listen), endpoint.error().message));
    std::unique_ptr<WorkerMetrics> metrics(new WorkerMetrics(args.linger_seconds));
    auto server = crawler::MetricsServer::start(*endpoint, metrics->exposition_);
    if (!server) return server.error();
    metrics->server_ = std::move(server).value();
    if (!metrics->server_->endpoint().address().is_loopback())
      fmt::print(stderr, "cjcrawl: warning: metrics on {}, not loopback: anyone who can reach it can read them\n",
                 metrics->server_->endpoint().address().to_string());
    // stderr, one line: scripts and tests read the address (with port 0, the port) here.
    fmt::print(stderr, "cjcrawl: metrics on {}\n", metrics->server_->url());
    return metrics;
  }

  crawler::CrawlMetrics& crawl() { return crawl_; }

  // After the summary: --metrics-linger seconds more of scrapes (not after Ctrl-C or SIGTERM: the
  // user, or the pod's end, asked to stop).
  void linger(const crawler::CrawlSummary& summary) {
    if (linger_seconds_ <= 0 || summary.interrupted) return;
    server_->linger(std::chrono::seconds(linger_seconds_));
  }

 private:
  explicit WorkerMetrics(int linger_seconds) : crawl_(exposition_.registry()), linger_seconds_(linger_seconds) {}

  crawler::MetricsExposition exposition_;  // first: the server renders it until it is gone
  crawler::CrawlMetrics crawl_;
  std::unique_ptr<crawler::MetricsServer> server_;
  int linger_seconds_;
};

// The options a crawl and a recheck share: how the slots run.
void add_slot_options(CLI::App* command, CrawlArgs& args) {
  command->add_option(
      "--out", args.out,
      "Write one JSON line per site here (default: stdout); a new run starts the file afresh, --resume appends");
  command
      ->add_option("--concurrency", args.concurrency,
                   "Slots, each one Chrome visiting one site at a time (default: cores)")
      ->check(in_range(1, kMaxConcurrency));
  command->add_option("--retries", args.retries, "Extra visits after a crash or a network error")
      ->check(in_range(0, 5))
      ->capture_default_str();
  command->add_option("--failure-budget", args.failure_budget, "Consecutive failures that stop a slot")
      ->check(in_range(1, 1'000'000))
      ->capture_default_str();
  command
      ->add_option("--recycle-after", args.recycle_after,
                   "Replace each slot's Chrome after this many sites (1: a fresh Chrome per site)")
      ->check(in_range(1, 1'000'000, "sites"))
      ->capture_default_str();
  command
      ->add_option("--memory-cap", args.memory_cap_mb,
                   "Replace a Chrome whose processes use more than this many MB (PSS)")
      ->check(in_range(64, 1'000'000, "MB"))
      ->capture_default_str();
  command
      ->add_option("--script-cache", args.script_cache,
                   "Remember the keyword findings of this many scripts by content hash, so a script seen on an earlier "
                   "site is not read again (0: off)")
      ->check(in_range(0, kMaxScriptCache, "scripts"))
      ->capture_default_str();
  command->add_flag("-q,--quiet", args.quiet, "No progress line");
  command->add_option("--metrics-listen", args.metrics.listen,
                      "HOST:PORT: serve Prometheus /metrics and /healthz there while this runs (IP literal or "
                      "localhost; :PORT is loopback; port 0: any)");
  command
      ->add_option("--metrics-linger", args.metrics.linger_seconds,
                   "Keep serving /metrics this many seconds after the summary, for a final scrape")
      ->check(in_range(0, 600, "seconds"))
      ->capture_default_str();
  add_visit_options(command, args.visit);
}

}  // namespace

CLI::App* add_crawl(CLI::App& app, CrawlArgs& args) {
  auto* command = app.add_subcommand(
      "crawl", "Crawl a list of sites (URLs, domains or rank,domain CSV) through N sandboxed Chromes");
  command->add_option("INPUT", args.input_path,
                      "List file, or - for standard input (required, except for a worker joining a --crawl)");
  command->add_option("--limit", args.limit, "Crawl at most N sites (after --shard)")
      ->check(in_range(1, 1'000'000'000, "sites"));
  command->add_option("--shard", args.shard, "I/N: only this machine's share of the list (0/N to N-1/N)");
  command->add_flag("--resume", args.resume, "Continue the crawl of this same input (path and content)");
  command->add_option("--crawl-id", args.crawl_id, "Continue this crawl (see `cjcrawl crawls`)")
      ->check(in_range(1, 1'000'000'000'000));
  command
      ->add_option("--crawl", args.crawl_name,
                   "NAME: a shared crawl on a PostgreSQL --db: with INPUT, create it (or join it); without, join "
                   "it as one more worker")
      ->check(CLI::Validator(
          [](std::string& name) -> std::string {
            if (name.empty() || name.size() > 100 ||
                name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                    std::string::npos)
              return "expected 1 to 100 letters, digits, '.', '_' or '-'";
            return {};
          },
          "1 to 100 of A-Z a-z 0-9 . _ -"));
  command
      ->add_option("--max-attempts", args.max_attempts,
                   "A shared crawl's attempts at one site, across workers, before it is recorded `failed`")
      ->check(in_range(1, 100, "attempts"))
      ->capture_default_str();
  command
      ->add_option("--lease", args.lease_seconds,
                   "A shared crawl's lease on a site, renewed every third of it; a killed worker's site goes to "
                   "another worker once it lapses")
      ->check(in_range(3, 3600, "seconds"))
      ->capture_default_str();
  add_slot_options(command, args);
  return command;
}

namespace {

// "host:pid": who holds a lease, for `cjcrawl crawls` and the attempts table.
std::string worker_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown-host");
  return fmt::format("{}:{}", host, ::getpid());
}

// `cjcrawl crawl [LIST] --db postgresql://... --crawl NAME`: one worker of a shared crawl. With the
// list it creates the crawl (or joins it: same list and selection), without it joins an existing
// one; then its slots claim sites from the queue until nothing is left to claim or in flight.
int run_shared_crawl(const CrawlArgs& args) {
  if (args.resume || args.crawl_id)
    return report(
        usage("--crawl NAME is a shared crawl, continued by running a worker again; --resume and "
              "--crawl-id continue a one-machine crawl"));
  if (!db::pg::is_postgres_location(args.visit.db_path))
    return report(
        usage(fmt::format("--crawl {}: a shared crawl needs a shared PostgreSQL database (--db "
                          "postgresql://...); on a SQLite file, --resume continues a crawl",
                          args.crawl_name)));
  if (auto checked = check_visit_args(args.visit); !checked) return report(checked.error());
  if (auto checked = check_output_path("--out", args.out); !checked) return report(checked.error());
  const int concurrency = args.concurrency.value_or(cores());
  std::optional<CrawlList> list;
  if (!args.input_path.empty()) {
    auto read = read_list(args);
    if (!read) return report(read.error());
    list = std::move(read).value();
  }
  auto found = find_rules_and_chrome(args.visit);
  if (!found) return report(found.error());
  auto metrics = WorkerMetrics::start(args.metrics);
  if (!metrics) return report(metrics.error());
  const auto store = open_database(args.visit.db_path, db::OpenMode::write);
  if (!store) return kExitCouldNotCheck;
  const std::string shown = db::shown_location(args.visit.db_path);
  const std::string doing = fmt::format("the database {}", shown);
  db::CrawlQueue* queue = store->queue();
  if (!queue) return report(usage(fmt::format("{} keeps no crawl queue", shown)));
  auto known = store->known_entries();
  if (!known) return database_error(doing, known.error());
  const blacklist::Detector detector(std::move(found->rules), std::move(known).value(), !args.visit.no_late_watch);

  // The crawl: created from the list, joined by name.
  db::Store::CrawlRow crawl;
  if (list) {
    db::Store::CrawlRow row;
    row.started_ms = util::wall_ms();
    row.input_path = list->input_path;
    row.input_digest = list->digest;
    row.selection = list->selection;
    row.total = static_cast<std::int64_t>(list->targets.size() + list->invalid.size());
    row.options_json = nlohmann::json{{"retries", args.retries},
                                      {"max_attempts", args.max_attempts},
                                      {"lease_seconds", args.lease_seconds},
                                      {"deadline_seconds", args.visit.deadline_seconds},
                                      {"sample_period_ms", args.visit.sample_period_ms}}
                           .dump();
    std::vector<db::CrawlQueue::QueuedSite> sites;
    sites.reserve(list->targets.size());
    for (const auto& target : list->targets) sites.push_back({static_cast<std::int64_t>(target.line), target.input});
    auto made = queue->create_or_join(args.crawl_name, row, sites, [&](std::int64_t crawl_id) {
      std::vector<db::Store::SkippedLine> skipped;
      for (const auto& problem : list->invalid)
        skipped.push_back(crawler::skipped_line(detector, args.visit.rule, crawl_id, problem));
      return skipped;
    });
    if (!made) {
      if (made.error().code == util::ErrorCode::invalid_argument) return report(usage(made.error().describe()));
      return database_error(doing, made.error());
    }
    crawl = std::move(made).value();
  } else {
    auto named = queue->named_crawl(args.crawl_name);
    if (!named) return database_error(doing, named.error());
    if (!*named)
      return report(
          usage(fmt::format("--crawl {}: no crawl of that name in {}; the first worker gives the list "
                            "(cjcrawl crawl LIST --db ... --crawl {})",
                            args.crawl_name, shown, args.crawl_name)));
    crawl = **named;
  }

  File out(stdout, [](std::FILE*) { return 0; });
  if (!args.out.empty() && args.out != "-") {
    out = File(std::fopen(args.out.c_str(), "w"), &std::fclose);
    if (!out) return report(write_failure(args.out, errno));
  }
  fmt::print(stderr,
             "cjcrawl: crawl {} (id {}) on {}: {} line(s) from {}, {} recorded so far; this worker is {} with {} "
             "slot(s)\n",
             crawl.name, crawl.id, shown, crawl.total, crawler::terminal_safe(crawl.input_path), crawl.done,
             worker_name(), concurrency);
  const int orphans = cdp::remove_orphaned_profiles();
  if (orphans > 0) spdlog::info("removed {} Chrome profile(s) left by an earlier, killed cjcrawl", orphans);

  blacklist::ScanCache scan_cache(static_cast<std::size_t>(args.script_cache));
  auto options = crawl_options(args, concurrency, found->chrome, detector, scan_cache);
  options.shared =
      crawler::SharedCrawl{queue, worker_name(), std::chrono::seconds(args.lease_seconds), args.max_attempts};
  if (*metrics) {
    (*metrics)->crawl().crawl_info(crawl.id, crawl.name);
    (*metrics)->crawl().shared_crawl();
    options.metrics = &(*metrics)->crawl();
  }
  std::FILE* file = out.get();
  const auto on_line = [&](const std::string& line) {
    return std::fprintf(file, "%s\n", line.c_str()) >= 0 && std::fflush(file) == 0;
  };
  const auto summary = crawler::run_crawl(*store, detector, crawl.id, {}, options, on_line,
                                          static_cast<std::size_t>(crawl.total), static_cast<std::size_t>(crawl.done));
  const bool complete = summary.queue_finished && !summary.interrupted && !summary.aborted;
  // Only the end of the whole crawl is a state: other workers may still run when this one stops.
  if (complete)
    if (auto ended = store->set_crawl_state(crawl.id, "completed", util::wall_ms()); !ended)
      fmt::print(stderr, "cjcrawl: {}\n", describe_database_error("cannot record the crawl's end", ended.error()));
  print_summary(summary, crawl.id,
                complete              ? "completed"
                : summary.interrupted ? "interrupted"
                                      : "stopped",
                scan_cache.hits());
  if (summary.released || summary.superseded)
    fmt::print(stderr,
               "cjcrawl: {} attempt(s) given back to the queue (not checked), {} result(s) dropped (another worker's "
               "attempt was current)\n",
               summary.released, summary.superseded);
  if (*metrics) (*metrics)->linger(summary);
  if (summary.aborted) return failure(fmt::format("crawl aborted: {}", summary.abort_reason));
  if (summary.interrupted) {
    fmt::print(stderr, "cjcrawl: interrupted; `cjcrawl crawl --db ... --crawl {}` joins the crawl again\n", crawl.name);
    return kExitInterrupted;
  }
  return complete ? kExitClean : kExitCouldNotCheck;
}

}  // namespace

int run_crawl(const CrawlArgs& args) {
  if (!args.crawl_name.empty()) return run_shared_crawl(args);
  if (args.input_path.empty()) return report(usage("a list of sites is needed (a file, or - for standard input)"));
  // Step 1: the arguments and the list. Bad lines are reported with their line numbers and kept.
  if (auto checked = check_visit_args(args.visit); !checked) return report(checked.error());
  if (auto checked = check_output_path("--out", args.out); !checked) return report(checked.error());
  const int concurrency = args.concurrency.value_or(cores());
  if (concurrency > cores())
    fmt::print(stderr,
               "cjcrawl: warning: --concurrency {} is more than the {} cores: pages share cores, so crawling "
               "is slower per site and CPU readings lean on the run-queue wait (see README)\n",
               concurrency, cores());
  auto read = read_list(args);
  if (!read) return report(read.error());
  auto& list = *read;
  auto found = find_rules_and_chrome(args.visit);
  if (!found) return report(found.error());
  auto metrics = WorkerMetrics::start(args.metrics);
  if (!metrics) return report(metrics.error());

  // Step 2: the crawl, new or continued, and what it has recorded already.
  const auto store = open_database(args.visit.db_path, db::OpenMode::write);
  if (!store) return kExitCouldNotCheck;
  auto chosen = choose_crawl(*store, args, list, concurrency);
  if (!chosen) return report(chosen.error());
  const auto& crawl = *chosen;
  const Progress progress = drop_recorded(list, crawl);

  // Step 3: the output (a continued file reconciled with the database first), the detector, and
  // the skipped lines.
  auto opened = open_output(*store, args, crawl);
  if (!opened) return report(opened.error());
  std::FILE* out = opened->get();
  fmt::print(stderr,
             "cjcrawl: crawl {}: {} site(s) from {} ({}), {} already recorded, {} to visit; {} duplicate and "
             "{} invalid line(s) (`skipped` lines)\n",
             crawl.row.id, progress.selected, list.shown_path, crawler::to_string(list.format), progress.done,
             list.targets.size(), list.duplicates, list.invalid_lines);
  const int orphans = cdp::remove_orphaned_profiles();
  if (orphans > 0) spdlog::info("removed {} Chrome profile(s) left by an earlier, killed cjcrawl", orphans);
  auto known = store->known_entries();
  if (!known)
    return database_error(fmt::format("the database {}", db::shown_location(args.visit.db_path)), known.error());
  const blacklist::Detector detector(std::move(found->rules), std::move(known).value(), !args.visit.no_late_watch);
  auto running = store->set_crawl_state(crawl.row.id, "running", 0);
  if (!running)
    return database_error(fmt::format("the database {}", db::shown_location(args.visit.db_path)), running.error());
  if (auto recorded = record_skipped_lines(*store, args, list, crawl, detector, out); !recorded)
    return report(recorded.error());

  // Step 4: the crawl, then its state and a summary.
  blacklist::ScanCache scan_cache(static_cast<std::size_t>(args.script_cache));  // as long as the detector
  auto options = crawl_options(args, concurrency, found->chrome, detector, scan_cache);
  if (*metrics) {
    (*metrics)->crawl().crawl_info(crawl.row.id, "");
    options.metrics = &(*metrics)->crawl();
  }
  const auto on_line = [&](const std::string& line) {
    return std::fprintf(out, "%s\n", line.c_str()) >= 0 && std::fflush(out) == 0;
  };
  const auto summary = crawler::run_crawl(*store, detector, crawl.row.id, list.targets, options, on_line,
                                          progress.selected, progress.done);
  const int code = finish(*store, fmt::format("cjcrawl crawl {} --resume", args.input_path), crawl.row.id, progress,
                          summary, scan_cache.hits());
  if (*metrics) (*metrics)->linger(summary);
  return code;
}

// ---- recheck: the same slots over the pages behind crawl-found entries.

namespace {

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

// The recheck this run continues (--resume and an unfinished one exists) or starts; nullopt when
// nothing is due.
util::Result<std::optional<CrawlRecord>> choose_recheck(db::Store& store, const RecheckArgs& args,
                                                        const blacklist::KnownEntries& known, int concurrency) {
  const std::string doing = fmt::format("the database {}", db::shown_location(args.slots.visit.db_path));
  if (args.slots.resume) {
    auto latest = store.latest_recheck();
    if (!latest) return database_failure(doing, latest.error());
    if (*latest && (*latest)->state != "completed") {
      auto positions = store.crawl_positions((*latest)->id);
      if (!positions) return database_failure(doing, positions.error());
      CrawlRecord record{**latest, std::move(positions).value()};
      std::sort(record.recorded.begin(), record.recorded.end());
      return std::optional<CrawlRecord>{std::move(record)};
    }
    fmt::print(stderr, "cjcrawl: --resume: no unfinished recheck; starting a new one\n");
  }
  const std::int64_t now = util::wall_ms();
  const auto before = now - static_cast<std::int64_t>(args.older_than_days * static_cast<double>(kDayMs));
  auto due = store.pages_due(before);
  if (!due) return database_failure(doing, due.error());
  // A reviewed exception is not rechecked: it is out of the feeds whatever the page does.
  std::vector<db::Store::RecheckPage> pages;
  std::string digest_input;
  for (auto& page : *due) {
    if (known.allowed(page.url)) continue;
    page.position = static_cast<std::int64_t>(pages.size()) + 1;
    digest_input += page.url + "\n";
    pages.push_back(std::move(page));
  }
  if (pages.empty()) return std::optional<CrawlRecord>{};
  db::Store::CrawlRow row;
  row.started_ms = now;
  row.input_path = "recheck";
  row.input_digest = crawler::input_digest(digest_input);
  row.selection = fmt::format("older-than={}d drop-after={}", args.older_than_days, args.drop_after);
  row.total = static_cast<std::int64_t>(pages.size());
  row.options_json = nlohmann::json{
      {"concurrency", concurrency},
      {"retries", args.slots.retries},
      {"older_than_days", args.older_than_days},
      {"drop_after",
       args.drop_after}}.dump();
  auto id = store.begin_recheck(row, pages, before, args.drop_after);
  if (!id) return database_failure(doing, id.error());
  row.id = *id;
  return std::optional<CrawlRecord>{CrawlRecord{row, {}}};
}

// The recheck's pages not yet recorded: crawl targets (the position is the "line"), and the pages
// no visit may navigate to (a stored final URL need not pass `check`'s input rules: credentials,
// length), which are recorded as `skipped` lines rather than silently left out.
// A stored URL as it may be printed: a password in it replaced by "***".
std::string without_password(const std::string& url) {
  auto parsed = boost::urls::parse_uri_reference(url);
  if (!parsed || !parsed->has_password()) return url;
  boost::urls::url shown(*parsed);
  shown.set_password("***");
  return std::string(shown.buffer());
}

struct RecheckWork {
  std::vector<crawler::CrawlTarget> targets;
  std::vector<crawler::InputProblem> unvisitable;
};

util::Result<RecheckWork> recheck_targets(db::Store& store, const RecheckArgs& args, const CrawlRecord& recheck) {
  auto pages = store.recheck_pages(recheck.row.id);
  if (!pages)
    return database_failure(fmt::format("the database {}", db::shown_location(args.slots.visit.db_path)),
                            pages.error());
  RecheckWork work;
  for (auto& page : *pages) {
    if (std::binary_search(recheck.recorded.begin(), recheck.recorded.end(), page.position)) continue;
    if (auto urls = crawler::parse_input(page.url); !urls) {
      const std::string shown = without_password(page.url);
      std::string why = urls.error().message;
      for (auto at = why.find(page.url); at != std::string::npos; at = why.find(page.url, at + shown.size()))
        why.replace(at, page.url.size(), shown);
      work.unvisitable.push_back({static_cast<std::size_t>(page.position), crawler::quote_input(shown),
                                  "the page cannot be visited again: " + why});
      continue;
    }
    crawler::CrawlTarget target;
    target.line = static_cast<std::size_t>(page.position);
    target.key = page.url;
    target.input = std::move(page.url);
    work.targets.push_back(std::move(target));
  }
  return work;
}

}  // namespace

CLI::App* add_recheck(CLI::App& app, RecheckArgs& args) {
  auto* command = app.add_subcommand(
      "recheck",
      "Visit again the pages behind crawl-found entries; a page not seen mining on --drop-after consecutive "
      "rechecks leaves the feeds, with the entries only it named");
  command
      ->add_option("--older-than", args.older_than_days,
                   "Recheck pages last confirmed more than DAYS ago (0: every crawl-found page)")
      ->check(in_range(0.0, 36'500.0, "days"))
      ->capture_default_str();
  command
      ->add_option("--drop-after", args.drop_after,
                   "Consecutive rechecks that do not see a page mining before it leaves the feeds")
      ->check(in_range(1, 100, "rechecks"))
      ->capture_default_str();
  command->add_flag("--resume", args.slots.resume, "Continue the newest recheck if it did not complete");
  add_slot_options(command, args.slots);
  return command;
}

int run_recheck(const RecheckArgs& args) {
  // Step 1: the arguments, the rules and Chrome, the store.
  if (auto checked = check_visit_args(args.slots.visit); !checked) return report(checked.error());
  if (auto checked = check_output_path("--out", args.slots.out); !checked) return report(checked.error());
  const int concurrency = args.slots.concurrency.value_or(cores());
  auto found = find_rules_and_chrome(args.slots.visit);
  if (!found) return report(found.error());
  auto metrics = WorkerMetrics::start(args.slots.metrics);
  if (!metrics) return report(metrics.error());
  const auto store = open_database(args.slots.visit.db_path, db::OpenMode::existing);
  if (!store) return kExitCouldNotCheck;
  auto known = store->known_entries();
  if (!known)
    return database_error(fmt::format("the database {}", db::shown_location(args.slots.visit.db_path)), known.error());

  // Step 2: the recheck, new or continued, and the pages it has left.
  auto chosen = choose_recheck(*store, args, *known, concurrency);
  if (!chosen) return report(chosen.error());
  if (!*chosen) {
    fmt::print(stderr,
               "cjcrawl: nothing to recheck: no page the crawl lists was last confirmed more than {} day(s) ago\n",
               args.older_than_days);
    return kExitClean;
  }
  const CrawlRecord& recheck = **chosen;
  auto work = recheck_targets(*store, args, recheck);
  if (!work) return report(work.error());
  const auto& targets = work->targets;
  Progress progress;
  progress.selected = static_cast<std::size_t>(recheck.row.total);
  progress.done = recheck.recorded.size();
  auto opened = open_output(*store, args.slots, recheck);
  if (!opened) return report(opened.error());
  std::FILE* out = opened->get();
  fmt::print(stderr, "cjcrawl: recheck {} ({}): {} page(s), {} already recorded, {} to visit\n", recheck.row.id,
             recheck.row.selection, progress.selected, progress.done, targets.size());

  // Step 3: the visits, each outcome applied with its visit; then the tally.
  const blacklist::Detector detector(std::move(found->rules), std::move(known).value(),
                                     !args.slots.visit.no_late_watch);
  auto running = store->set_crawl_state(recheck.row.id, "running", 0);
  if (!running)
    return database_error(fmt::format("the database {}", db::shown_location(args.slots.visit.db_path)),
                          running.error());
  std::vector<db::Store::SkippedLine> skipped;
  for (const auto& problem : work->unvisitable) {
    fmt::print(stderr, "cjcrawl: recheck {}: page {} skipped: {}: {}\n", recheck.row.id, problem.line, problem.reason,
               problem.text);
    skipped.push_back(crawler::skipped_line(detector, args.slots.visit.rule, recheck.row.id, problem));
  }
  if (auto recorded = store->record_skipped(recheck.row.id, skipped, util::wall_ms()); !recorded)
    return database_error(fmt::format("the database {}", db::shown_location(args.slots.visit.db_path)),
                          recorded.error());
  for (const auto& line : skipped) std::fprintf(out, "%s\n", line.line.c_str());
  progress.done += skipped.size();
  blacklist::ScanCache scan_cache(static_cast<std::size_t>(args.slots.script_cache));
  auto options = crawl_options(args.slots, concurrency, found->chrome, detector, scan_cache);
  if (*metrics) {
    (*metrics)->crawl().crawl_info(recheck.row.id, "recheck");
    options.metrics = &(*metrics)->crawl();
  }
  const auto on_line = [&](const std::string& line) {
    return std::fprintf(out, "%s\n", line.c_str()) >= 0 && std::fflush(out) == 0;
  };
  const auto summary =
      crawler::run_crawl(*store, detector, recheck.row.id, targets, options, on_line, progress.selected, progress.done);
  const int code = finish(*store, "cjcrawl recheck --resume", recheck.row.id, progress, summary, scan_cache.hits());
  if (auto tally = store->recheck_tally(recheck.row.id); tally)
    fmt::print(stderr,
               "cjcrawl: recheck {}: {} confirmed, {} not seen, {} undetermined (not ok: they count neither way); "
               "{} page(s) left the feeds\n",
               recheck.row.id, tally->confirmed, tally->not_seen, tally->undetermined, tally->dropped);
  if (*metrics) (*metrics)->linger(summary);
  return code;
}

}  // namespace crawler::cli
