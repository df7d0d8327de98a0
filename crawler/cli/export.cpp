// crawler/cli/export.cpp — `cjcrawl export`: the active blacklist in one format, to stdout or -o FILE
// (written to a temporary file, then renamed, so a reader never sees half a list). Exports are
// reproducible: SOURCE_DATE_EPOCH, when set, is "now" for headers and the RPZ serial.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <set>

#include "crawler/cli/commands.hpp"
#include "crawler/feed.hpp"
#include "crawler/report.hpp"
#include "db/export.hpp"
#include "util/clock.hpp"

namespace crawler::cli {
namespace {

std::int64_t export_clock_ms() {
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    if (auto parsed = crawler::parse_time_ms(epoch)) return *parsed;
  }
  return util::wall_ms();
}

// The filter the arguments ask for.
util::Result<db::Store::ExportFilter> make_filter(const ExportArgs& args, std::int64_t now) {
  db::Store::ExportFilter filter;
  static const std::set<std::string> kKinds{"page",        "domain", "script_url",  "script_path",
                                            "ws_endpoint", "ip",     "wasm_sha256", "allow"};
  for (const auto& kind : args.kinds)
    if (!kKinds.contains(kind)) return usage(fmt::format("--kind {}: not a blacklist kind", terminal_safe(kind)));
  if (args.source != "all" && args.source != "crawl" && args.source != "import")
    return usage(fmt::format("--source {}: expected crawl, import or all", terminal_safe(args.source)));
  filter.kinds = args.kinds;
  filter.source = args.source;
  filter.min_confidence = args.min_confidence;
  if (!args.since.empty()) {
    const auto since = crawler::parse_time_ms(args.since);
    if (!since)
      return usage(fmt::format("--since {}: expected Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
                               terminal_safe(args.since)));
    filter.seen_since_ms = *since;
  }
  if (args.max_age_days > 0)
    filter.seen_since_ms = std::max(filter.seen_since_ms, now - std::int64_t{args.max_age_days} * 86'400'000);
  return filter;
}

}  // namespace

CLI::App* add_export(CLI::App& app, ExportArgs& args) {
  auto* command = app.add_subcommand("export", "Write the blacklist as a feed file (hosts, adblock, rpz, stix, ...)");
  command->add_option("--format", args.format, "hosts, domains, adblock, rpz, csv, json, jsonl or stix")->required();
  command
      ->add_option("--kind", args.kinds,
                   "Only these kinds (repeatable); line formats carry pages only with --kind page")
      ->allow_extra_args(false);
  command->add_option("--source", args.source, "crawl, import or all")->capture_default_str();
  command->add_option("--since", args.since, "Only entries seen since TIME (Unix seconds or YYYY-MM-DD[THH:MM:SSZ])");
  command->add_option("--min-confidence", args.min_confidence, "Only entries at least this confident")
      ->check(in_range(0, 100))
      ->capture_default_str();
  command->add_option("--max-age", args.max_age_days, "Only entries seen in the last DAYS days (0: no limit)")
      ->check(in_range(0, 36'500, "days"))
      ->capture_default_str();
  command->add_option("-o,--output", args.output, "Write to FILE instead of stdout");
  command->add_option("--db", args.db_path, kDatabaseHelp);
  return command;
}

int run_export(const ExportArgs& args) {
  const auto format = db::parse_format(args.format);
  if (!format)
    return usage_error(fmt::format("--format {}: expected hosts, domains, adblock, rpz, csv, json, jsonl or stix",
                                   terminal_safe(args.format)));
  const std::int64_t now = export_clock_ms();
  const auto filter = make_filter(args, now);
  if (!filter) return report(filter.error());
  if (auto checked = check_output_path("-o", args.output); !checked) return report(checked.error());

  const auto store = open_database(args.db_path, db::OpenMode::inspect);
  if (!store) return kExitCouldNotCheck;
  auto entries = store->export_entries(*filter);
  if (!entries)
    return database_error(fmt::format("cannot read the database {}", db::shown_location(args.db_path)),
                          entries.error());
  db::ExportOptions options;
  options.now_ms = now;
  options.include_pages = std::find(args.kinds.begin(), args.kinds.end(), "page") != args.kinds.end();
  const auto rendered = db::render_export(*format, *entries, options);

  if (args.output.empty() || args.output == "-") std::cout << rendered.text << std::flush;
  else if (auto written = write_file_atomically(args.output, rendered.text); !written) return report(written.error());
  fmt::print(stderr, "cjcrawl: exported {} {} of {} entries ({} left out as unsafe for the format, {} allowed)\n",
             rendered.written, db::is_line_format(*format) ? "rules" : "entries", entries->size(), rendered.skipped,
             rendered.allowed);
  for (const auto& sample : rendered.skipped_samples)
    fmt::print(stderr, "  left out {} {}: {}\n", sample.kind, sample.value, sample.reason);
  return kExitClean;
}

}  // namespace crawler::cli
