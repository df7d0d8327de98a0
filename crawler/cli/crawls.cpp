// crawler/cli/crawls.cpp — `cjcrawl crawls`: one line per crawl recorded in the database.
#include "crawler/cli/commands.hpp"
#include "crawler/report.hpp"
#include "db/export.hpp"

namespace crawler::cli {

CLI::App* add_crawls(CLI::App& app, CrawlsArgs& args) {
  auto* command = app.add_subcommand("crawls", "List the crawls in the database");
  command->add_option("--db", args.db_path, "SQLite database ($CJCRAWL_DB, default ./cjcrawl.db)");
  return command;
}

int run_crawls(const CrawlsArgs& args) {
  const auto store = open_database(args.db_path, db::OpenMode::existing);
  if (!store) return kExitCouldNotCheck;
  const auto crawls = store->crawls();
  if (!crawls) return database_error(fmt::format("cannot read the database {}", args.db_path), crawls.error());
  fmt::print("{:>5}  {:<11}  {:>15}  {:<20}  {}\n", "id", "state", "recorded/total", "started (UTC)", "input");
  for (const auto& crawl : *crawls)
    fmt::print("{:>5}  {:<11}  {:>15}  {:<20}  {} ({})\n", crawl.id, crawl.state,
               fmt::format("{}/{}", crawl.done, crawl.total), db::format_rfc3339_seconds(crawl.started_ms),
               crawler::terminal_safe(crawl.input_path), crawl.selection);
  return kExitClean;
}

}  // namespace crawler::cli
