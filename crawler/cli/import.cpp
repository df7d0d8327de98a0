// crawler/cli/import.cpp — `cjcrawl import SOURCE...`: each source (a file or an http(s) URL) is
// fetched or read, parsed, and made the exact set of entries that source lists
// (db::Store::replace_source_entries). A failing source is reported and recorded on its row; the
// others go on; the exit code is 1 if any failed.
#include <fstream>
#include <map>

#include "blacklist/list_import.hpp"
#include "crawler/cli/commands.hpp"
#include "crawler/fetch.hpp"
#include "crawler/report.hpp"
#include "util/clock.hpp"

namespace crawler::cli {
namespace {

namespace fs = std::filesystem;

// A list's text, from a file or over HTTP, with what a later conditional fetch needs.
struct ListText {
  std::string text;
  std::string etag;
  std::string last_modified;
  bool not_modified = false;  // HTTP 304: nothing to do
  std::string error;
};

// Reads a local list, refusing anything over the fetch size cap.
ListText read_list_file(const std::string& path) {
  ListText out;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  if (size > crawler::FetchOptions{}.max_bytes) {
    out.error = fmt::format("larger than the {} MB limit", crawler::FetchOptions{}.max_bytes >> 20);
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  out.text.assign(static_cast<std::size_t>(size), '\0');
  if (!in.read(out.text.data(), static_cast<std::streamsize>(size))) out.error = "cannot read";
  return out;
}

ListText fetch_list(const std::string& url, const db::Store& store) {
  crawler::FetchOptions options;
  if (const auto previous = store.source(url); previous.ok() && previous.value()) {
    options.if_none_match = (*previous)->etag;
    options.if_modified_since = (*previous)->last_modified;
  }
  auto fetched = crawler::fetch_url(url, options);
  if (!fetched) return ListText{{}, {}, {}, false, fetched.error().message};
  return ListText{
      std::move(fetched->body), std::move(fetched->etag), std::move(fetched->last_modified), fetched->not_modified, {}};
}

// One source, parsed and stored. false when it failed (reported).
bool import_one(db::Store& store, const std::string& source, const ImportArgs& args,
                const std::optional<blacklist::ListFormat>& forced) {
  const bool remote = source.starts_with("http://") || source.starts_with("https://");
  const ListText list = remote ? fetch_list(source, store) : read_list_file(source);
  if (list.not_modified) {
    (void)store.note_source_fetch(source, "", util::wall_ms());
    fmt::print("{}: unchanged (HTTP 304)\n", source);
    return true;
  }
  if (!list.error.empty()) {
    fmt::print(stderr, "cjcrawl: import {}: {}\n", source, list.error);
    (void)store.note_source_fetch(source, list.error, util::wall_ms());  // best effort: the failure is reported
    return false;
  }
  // Garbage is refused before it can replace what the source listed: bytes that are no text, or a
  // text none of whose lines is an entry (an HTML error page served instead of the list). Nothing is
  // stored; the failure is noted on the source.
  const auto refuse = [&](const std::string& why) {
    fmt::print(stderr, "cjcrawl: import {}: {}; nothing stored\n", crawler::terminal_safe(source), why);
    (void)store.note_source_fetch(source, why, util::wall_ms());  // best effort: the failure is reported
    return false;
  };
  if (const auto problem = blacklist::not_a_text_list(list.text); !problem.empty()) return refuse(problem);
  const auto parsed = blacklist::import_list(list.text, forced);
  if (parsed.entries.empty() && parsed.skipped_total() > 0) {
    const auto& [kind, first] = *parsed.skipped.begin();
    return refuse(fmt::format("none of its {} line(s) is a list entry (line {}: {})", parsed.skipped_total(),
                              first.sample_line, crawler::terminal_safe(first.sample_reason, 120)));
  }
  std::vector<db::Store::ListedEntry> entries;
  entries.reserve(parsed.entries.size());
  std::map<std::string, std::size_t> by_kind;
  for (const auto& entry : parsed.entries) {
    entries.push_back({std::string(blacklist::to_string(entry.kind)), entry.value});
    ++by_kind[std::string(blacklist::to_string(entry.kind))];
  }
  const auto change = store.replace_source_entries(source, blacklist::to_string(parsed.format), entries, list.etag,
                                                   list.last_modified, args.confidence, util::wall_ms());
  if (!change) {
    fmt::print(stderr, "cjcrawl: {}\n",
               describe_database_error(fmt::format("import {}: not stored", source), change.error()));
    return false;
  }
  std::string kinds;
  for (const auto& [kind, count] : by_kind) kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", count, kind);
  fmt::print("{}: {} ({}), {} entries ({}); {} new, {} removed upstream, {} listed again\n", source,
             blacklist::to_string(parsed.format), parsed.format_detected ? "detected" : "forced", change->listed,
             kinds.empty() ? "none" : kinds, change->added, change->removed, change->relisted);
  for (const auto& [kind, skipped] : parsed.skipped)
    fmt::print("  skipped {} × {} (first at line {}: {})\n", skipped.count, blacklist::to_string(kind),
               skipped.sample_line, crawler::terminal_safe(skipped.sample_reason, 160));
  return true;
}

}  // namespace

CLI::App* add_import(CLI::App& app, ImportArgs& args) {
  auto* command = app.add_subcommand("import", "Import public blocklists (files or http(s) URLs) into the blacklist");
  command->add_option("SOURCE", args.sources, "List file or http(s) URL (repeatable)")->required();
  command->add_option("--format", args.format, "adblock, hosts, domains, ips or webext (default: detect)");
  command->add_option("--db", args.db_path, kDatabaseHelp);
  command->add_option("--confidence", args.confidence, "Confidence given to imported entries")
      ->check(in_range(0, 100))
      ->capture_default_str();
  return command;
}

int run_import(const ImportArgs& args) {
  std::optional<blacklist::ListFormat> forced;
  if (!args.format.empty()) {
    forced = blacklist::parse_list_format(args.format);
    if (!forced)
      return usage_error(
          fmt::format("--format {}: expected adblock, hosts, domains, ips or webext", terminal_safe(args.format)));
  }
  const auto store = open_database(args.db_path, db::OpenMode::write);
  if (!store) return kExitCouldNotCheck;
  crawler::init_fetching();
  int failures = 0;
  for (const auto& source : args.sources)
    if (!import_one(*store, source, args, forced)) ++failures;
  return failures ? kExitCouldNotCheck : kExitClean;
}

}  // namespace crawler::cli
