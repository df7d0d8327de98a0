// crawler/cli/merge.cpp — `cjcrawl merge OUT IN...`: the SQLite files of a sharded crawl (or any
// cjcrawl databases) merged into OUT, offline (db/merge). Written to a temporary file beside
// OUT and renamed, so OUT is either the old file or the whole merge; Ctrl-C stops it the same way.
#include <signal.h>

#include <atomic>

#include "crawler/cli/commands.hpp"
#include "crawler/report.hpp"
#include "db/export.hpp"
#include "db/merge.hpp"
#include "db/pg.hpp"

namespace crawler::cli {
namespace {

std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int) { stop_requested.store(true); }

std::string when(std::int64_t ms) { return ms > 0 ? db::format_rfc3339_seconds(ms) : "a skipped line"; }

void print_details(const db::MergeReport& report);

// The summary line always; with the details unless --quiet.
void print_report(const db::MergeReport& report, const MergeArgs& args) {
  if (!args.quiet) print_details(report);
  if (!report.written) {
    fmt::print(stderr, "cjcrawl: merge: nothing new; {} unchanged\n", terminal_safe(args.out));
    return;
  }
  fmt::print(stderr,
             "cjcrawl: merge: {} file{} into {}: {} new sites ({} visits), {} already there, {} recorded twice and "
             "kept once; {} entries ({} new); generation {}\n",
             args.inputs.size(), args.inputs.size() == 1 ? "" : "s", terminal_safe(args.out), report.new_sites,
             report.new_visits, report.already_there, report.duplicate_count, report.entries, report.new_entries,
             report.generation);
}

// Notes, sites recorded twice, and each crawl the merge touched with its shards.
void print_details(const db::MergeReport& report) {
  for (const auto& note : report.notes) fmt::print(stderr, "cjcrawl: merge: note: {}\n", terminal_safe(note));
  for (const auto& duplicate : report.duplicates)
    fmt::print(stderr,
               "cjcrawl: merge: crawl {} line {} ({}) is recorded again in {} (started {}); kept the record named "
               "first (started {})\n",
               duplicate.crawl_id, duplicate.position, terminal_safe(duplicate.input), terminal_safe(duplicate.file),
               when(duplicate.dropped_started_ms), when(duplicate.kept_started_ms));
  if (report.duplicate_count > static_cast<std::int64_t>(report.duplicates.size()))
    fmt::print(stderr, "cjcrawl: merge: … and {} more sites recorded twice, each kept once\n",
               report.duplicate_count - static_cast<std::int64_t>(report.duplicates.size()));
  for (const auto& crawl : report.crawls) {
    std::string missing;
    for (int shard : crawl.missing_shards) missing += (missing.empty() ? "" : ",") + std::to_string(shard);
    fmt::print(stderr, "cjcrawl: merge: crawl {}: {} ({}){}\n", crawl.id, crawl.selection, crawl.state,
               missing.empty() ? "" : fmt::format("; no input had shard {}", missing));
  }
}

}  // namespace

CLI::App* add_merge(CLI::App& app, MergeArgs& args) {
  auto* command = app.add_subcommand(
      "merge", "Merge the SQLite files of a sharded crawl (or any cjcrawl databases) into OUT, offline");
  command->add_option("out", args.out, "The merged database: created, or added to (written whole, then renamed)")
      ->required();
  command
      ->add_option("inputs", args.inputs,
                   "Databases to merge in, read-only; where two record a site, the first named is kept")
      ->required();
  command->add_flag("-q,--quiet", args.quiet,
                    "Only the summary line: no notes, sites recorded twice or per-crawl lines");
  return command;
}

int run_merge(const MergeArgs& args) {
  for (const auto& location : args.inputs)
    if (db::pg::is_postgres_location(location))
      return usage_error("merge: merges SQLite files; a PostgreSQL fleet already shares one database");
  if (db::pg::is_postgres_location(args.out))
    return usage_error("merge: OUT must be a SQLite file; a PostgreSQL fleet already shares one database");
  std::vector<std::filesystem::path> inputs(args.inputs.begin(), args.inputs.end());

  struct sigaction action {};
  action.sa_handler = request_stop;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  auto merged = db::merge_sqlite(args.out, inputs, &stop_requested);
  if (stop_requested.load() && !(merged && merged->written)) {  // a stop after the rename: it is done
    fmt::print(stderr, "cjcrawl: merge: interrupted; {} unchanged\n", terminal_safe(args.out));
    return kExitInterrupted;
  }
  if (!merged) {
    fmt::print(stderr, "cjcrawl: merge: {}\ncjcrawl: merge: nothing was written to {}\n",
               terminal_safe(merged.error().describe()), terminal_safe(args.out));
    return exit_code_for(merged.error());
  }
  print_report(*merged, args);
  return kExitClean;
}

}  // namespace crawler::cli
