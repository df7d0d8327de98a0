// crawler/cli/crawls.cpp — `cjcrawl crawls`: one line per crawl recorded in the database, and for a
// shared crawl its queue (in flight by which worker, failed, sites/min over the last minutes, an
// ETA); `--json` for scripts. `cjcrawl crawl-lines`: a crawl's JSON lines in input order.
#include <nlohmann/json.hpp>

#include "crawler/cli/commands.hpp"
#include "crawler/report.hpp"
#include "db/export.hpp"
#include "db/queue.hpp"

namespace crawler::cli {
namespace {

struct Listed {
  db::Store::CrawlRow crawl;
  std::optional<db::CrawlQueue::QueueState> queue;  // a shared crawl's
  double per_minute = 0;
  std::optional<long> eta_seconds;
};

std::string eta_text(const std::optional<long>& seconds) {
  if (!seconds) return "--:--";
  return fmt::format("{}:{:02}:{:02}", *seconds / 3600, *seconds / 60 % 60, *seconds % 60);
}

nlohmann::json to_json(const Listed& listed) {
  const auto& crawl = listed.crawl;
  nlohmann::json out{{"id", crawl.id},
                     {"name", crawl.name},
                     {"state", crawl.state},
                     {"total", crawl.total},
                     {"done", crawl.done},
                     {"started", db::format_rfc3339_seconds(crawl.started_ms)},
                     {"input", crawl.input_path},
                     {"selection", crawl.selection}};
  if (listed.queue) {
    const auto& queue = *listed.queue;
    nlohmann::json flying = nlohmann::json::array();
    for (const auto& site : queue.in_flight)
      flying.push_back({{"line", site.position},
                        {"attempt", site.attempt},
                        {"worker", site.owner},
                        {"lease_left_ms", site.leased_for_ms}});
    out["queue"] = {{"queued", queue.queued},   {"in_flight", queue.leased},  {"done", queue.done},
                    {"failed", queue.failed},   {"attempts", queue.attempts}, {"sites_per_minute", listed.per_minute},
                    {"in_flight_sites", flying}};
    out["eta_seconds"] = listed.eta_seconds ? nlohmann::json(*listed.eta_seconds) : nlohmann::json(nullptr);
  }
  return out;
}

}  // namespace

CLI::App* add_crawls(CLI::App& app, CrawlsArgs& args) {
  auto* command = app.add_subcommand("crawls", "List the crawls in the database, with each shared crawl's queue");
  command->add_option("--db", args.db_path, kDatabaseHelp);
  command->add_flag("--json", args.json, "One JSON object per crawl, one per line");
  command->add_option("--window", args.window_minutes, "A shared crawl's sites/min and ETA: over the last MINUTES")
      ->check(in_range(1, 1440, "minutes"))
      ->capture_default_str();
  return command;
}

int run_crawls(const CrawlsArgs& args) {
  const auto store = open_database(args.db_path, db::OpenMode::inspect);
  if (!store) return kExitCouldNotCheck;
  const std::string doing = fmt::format("cannot read the database {}", db::shown_location(args.db_path));
  const auto crawls = store->crawls();
  if (!crawls) return database_error(doing, crawls.error());
  std::vector<Listed> listed;
  for (const auto& crawl : *crawls) {
    Listed item{crawl, std::nullopt, 0, std::nullopt};
    if (db::CrawlQueue* queue = store->queue(); queue && !crawl.name.empty()) {
      auto state = queue->queue_state(crawl.id, std::chrono::minutes(args.window_minutes));
      if (!state) return database_error(doing, state.error());
      item.per_minute = static_cast<double>(state->recent_done) / args.window_minutes;
      const auto left = state->queued + state->leased;
      if (left == 0) item.eta_seconds = 0;
      else if (item.per_minute > 0)
        item.eta_seconds = static_cast<long>(static_cast<double>(left) / item.per_minute * 60);
      item.queue = std::move(state).value();
    }
    listed.push_back(std::move(item));
  }
  if (args.json) {
    for (const auto& item : listed)
      fmt::print("{}\n", to_json(item).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return kExitClean;
  }
  fmt::print("{:>5}  {:<11}  {:>15}  {:<20}  {}\n", "id", "state", "recorded/total", "started (UTC)", "input");
  for (const auto& item : listed) {
    const auto& crawl = item.crawl;
    fmt::print("{:>5}  {:<11}  {:>15}  {:<20}  {}{} ({})\n", crawl.id, crawl.state,
               fmt::format("{}/{}", crawl.done, crawl.total), db::format_rfc3339_seconds(crawl.started_ms),
               crawl.name.empty() ? "" : crawler::terminal_safe(crawl.name) + ": ",
               crawler::terminal_safe(crawl.input_path), crawl.selection);
    if (!item.queue) continue;
    const auto& queue = *item.queue;
    fmt::print(
        "       queue: {} queued, {} in flight, {} done ({} failed), {} attempts; {:.1f} sites/min over {} min; "
        "ETA {}\n",
        queue.queued, queue.leased, queue.done, queue.failed, queue.attempts, item.per_minute, args.window_minutes,
        eta_text(item.eta_seconds));
    for (const auto& site : queue.in_flight)
      fmt::print("       line {} attempt {} by {} (lease {})\n", site.position, site.attempt,
                 crawler::terminal_safe(site.owner),
                 site.leased_for_ms >= 0 ? fmt::format("{:.0f} s left", static_cast<double>(site.leased_for_ms) / 1000)
                                         : "lapsed");
  }
  return kExitClean;
}

CLI::App* add_crawl_lines(CLI::App& app, CrawlLinesArgs& args) {
  auto* command = app.add_subcommand(
      "crawl-lines", "Write a crawl's JSON lines in input order, whichever worker recorded them (one file again)");
  command->add_option("CRAWL", args.crawl, "The crawl's name (--crawl NAME) or id (see `cjcrawl crawls`)")->required();
  command->add_option("--db", args.db_path, kDatabaseHelp);
  return command;
}

int run_crawl_lines(const CrawlLinesArgs& args) {
  const auto store = open_database(args.db_path, db::OpenMode::inspect);
  if (!store) return kExitCouldNotCheck;
  const std::string doing = fmt::format("cannot read the database {}", db::shown_location(args.db_path));
  std::optional<db::Store::CrawlRow> crawl;
  if (db::CrawlQueue* queue = store->queue()) {
    auto named = queue->named_crawl(args.crawl);
    if (!named) return database_error(doing, named.error());
    crawl = *named;
  }
  if (!crawl && !args.crawl.empty() && args.crawl.find_first_not_of("0123456789") == std::string::npos &&
      args.crawl.size() < 18) {
    auto by_id = store->crawl(std::stoll(args.crawl));
    if (!by_id) return database_error(doing, by_id.error());
    crawl = *by_id;
  }
  if (!crawl)
    return report(usage(
        fmt::format("{}: no crawl of that name or id (see `cjcrawl crawls`)", crawler::terminal_safe(args.crawl))));
  // Pages of lines by position: a million-line crawl is never in memory at once.
  std::int64_t after = 0;
  std::size_t written = 0;
  for (;;) {
    auto page = store->crawl_lines_after(crawl->id, after, 1000);
    if (!page) return database_error(doing, page.error());
    if (page->empty()) break;
    for (const auto& line : *page) {
      if (std::fprintf(stdout, "%s\n", line.line.c_str()) < 0)
        return report(util::make_error(util::ErrorCode::io, "writing the lines failed", std::strerror(errno), errno));
      ++written;
    }
    after = page->back().position;
  }
  if (std::fflush(stdout) != 0)
    return report(util::make_error(util::ErrorCode::io, "writing the lines failed", std::strerror(errno), errno));
  if (static_cast<std::int64_t>(written) < crawl->total)
    fmt::print(stderr, "cjcrawl: crawl {} ({}): {} of {} line(s) recorded so far\n", crawl->id, crawl->state, written,
               crawl->total);
  return kExitClean;
}

}  // namespace crawler::cli
