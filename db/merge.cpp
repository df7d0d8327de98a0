// db/merge.cpp — see merge.hpp. The steps, in order:
//   1. check the arguments and each input (a cjcrawl database at this schema, no rechecks);
//   2. make the temporary file beside OUT: a copy of OUT (VACUUM INTO), or a fresh store;
//   3. for each input, attached read-only: crawls (matched, joined), sites and visits (planned as
//      new, same or duplicate, then copied), entries, proof links, sources and feed listings;
//   4. recompute the aggregates of every entry a visit named, from the merged proof links;
//   5. renumber the commit order of grown crawls, move the generation past every input's, check
//      foreign keys, and rename the temporary over OUT (or drop it when nothing changed).
// Every pass is INSERT/UPDATE … SELECT over indexed probes, and the id maps are on-disk temporary
// tables, so memory does not grow with the input (BENCHMARKS.md "merge").
#include "db/merge.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

#include "db/sqlite.hpp"
#include "db/sqlite_store.hpp"
#include "db/visit_record.hpp"

namespace db {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

[[noreturn]] void fail(util::ErrorCode kind, const std::string& context, const std::string& message) {
  throw Error(SQLITE_ERROR, context, message, kind);
}

// ---- 1. Arguments and inputs ---------------------------------------------------------------------

struct FileId {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator<(const FileId& other) const {
    return device != other.device ? device < other.device : inode < other.inode;
  }
  bool operator==(const FileId& other) const { return device == other.device && inode == other.inode; }
};

std::optional<FileId> file_id(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return std::nullopt;  // follows symlinks
  return FileId{status.st_dev, status.st_ino};
}

// The inputs to read, each once, in the order named; notes for repeats.
std::vector<fs::path> checked_inputs(const fs::path& out, const std::vector<fs::path>& inputs,
                                     std::vector<std::string>& notes) {
  const auto out_id = file_id(out);
  std::vector<fs::path> unique;
  std::vector<FileId> seen;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& input = inputs[i];
    const auto id = file_id(input);
    if (!id) fail(util::ErrorCode::invalid_argument, input.string(), "no such file");
    if (out_id && *id == *out_id)
      fail(util::ErrorCode::invalid_argument, out.string(),
           "is also input " + std::to_string(i + 1) + " (" + input.string() + ": the same file, device " +
               std::to_string(id->device) + " inode " + std::to_string(id->inode) + "): name a new output");
    if (std::find(seen.begin(), seen.end(), *id) != seen.end()) {
      notes.push_back(input.string() + " is named twice (or is a link to another input): merged once");
      continue;
    }
    seen.push_back(*id);
    unique.push_back(input);
  }
  return unique;
}

std::int64_t scalar(const Database& database, std::string_view sql) {
  Statement statement = database.prepare(sql);
  if (!statement.step()) return 0;
  return statement.column_int64(0);
}

// Opens `input` as every reader does (which gives the words for "not a database", "newer schema",
// "older schema"), then refuses what a merge cannot model. Returns its generation.
std::int64_t check_input(const fs::path& input, std::vector<std::string>& notes) {
  std::error_code error;
  if (fs::is_regular_file(input, error) && fs::file_size(input, error) == 0)
    fail(util::ErrorCode::not_a_database, input.string(), "empty: not a cjcrawl database");
  auto opened = SqliteStore::open_readonly(input);
  if (!opened) {
    const util::Error& failure = opened.error();
    throw Error(failure.native_code != 0 ? static_cast<int>(failure.native_code) : SQLITE_ERROR, failure.context,
                failure.message, failure.code);
  }
  Database database(input.string(), SQLITE_OPEN_READONLY);
  database.set_busy_timeout(SqliteStore::kBusyTimeoutMs);
  if (scalar(database, "SELECT count(*) FROM rechecks") > 0)
    fail(util::ErrorCode::invalid_argument, input.string(),
         "has rechecks, which a merge does not combine: merge the shards first, then recheck the merged file");
  if (scalar(database, "SELECT count(*) FROM crawls WHERE name IS NOT NULL") > 0 ||
      scalar(database, "SELECT count(*) FROM crawl_queue") > 0)
    fail(util::ErrorCode::invalid_argument, input.string(),
         "holds a shared crawl's queue, which only PostgreSQL keeps");
  if (scalar(database, "SELECT count(*) FROM crawls WHERE state = 'running'") > 0)
    notes.push_back(input.string() + " has a crawl still running (or killed): merge again when it has ended");
  return scalar(database, "SELECT value FROM meta WHERE key = 'generation'");
}

// ---- 2. The temporary file -----------------------------------------------------------------------

// Removes the temporary file (and any journal beside it) unless the merge was renamed into place.
class TemporaryFile {
 public:
  explicit TemporaryFile(fs::path path) : path_(std::move(path)) { remove(); }
  ~TemporaryFile() { remove(); }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  void remove() {
    if (path_.empty()) return;
    std::error_code ignored;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path_.string() + suffix, ignored);
  }
  fs::path path_;
};

// A stale OUT-wal beside a renamed file would be replayed onto it ("How To Corrupt An SQLite
// Database File", 2.4): OUT's log is checkpointed into OUT first, as the only connection. A log that
// survives the close means another process has OUT open.
void settle_write_ahead_log(const fs::path& out) {
  const fs::path wal = out.string() + "-wal";
  std::error_code error;
  if (!fs::exists(wal, error)) return;
  {
    Database database(out.string(), SQLITE_OPEN_READWRITE);
    database.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  if (fs::exists(wal, error))
    fail(util::ErrorCode::busy, out.string(),
         "is open in another process (a crawl? serve?): stop it, or merge into a new file");
}

fs::path temporary_path(const fs::path& out, pid_t pid = ::getpid()) {
  return out.parent_path() / ("." + out.filename().string() + ".merging-" + std::to_string(pid));
}

// A merge killed outright (SIGKILL, a node lost) leaves its temporary behind, as large as OUT: the
// next merge into OUT removes those whose process is gone.
void remove_stale_temporaries(const fs::path& out) {
  const std::string prefix = "." + out.filename().string() + ".merging-";
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(out.parent_path(), error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const auto pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    TemporaryFile stale(entry.path());  // removes it and its journal
  }
}

// The temporary starts as OUT's content (or empty), at this binary's schema.
void start_temporary(const fs::path& out, bool out_exists, const fs::path& temporary) {
  if (out_exists) {
    // Read-write (it writes nothing): as the last connection it removes the -wal and -shm files
    // that a read-only one would leave beside OUT, where they would read as another process's.
    Database source(out.string(), SQLITE_OPEN_READWRITE);
    source.set_busy_timeout(SqliteStore::kBusyTimeoutMs);
    Statement copy = source.prepare("VACUUM INTO ?1");
    copy.bind_text(1, temporary.string());
    copy.run();
  }
  auto store = SqliteStore::open(temporary);  // creates or migrates
  if (!store) {
    const util::Error& failure = store.error();
    throw Error(failure.native_code != 0 ? static_cast<int>(failure.native_code) : SQLITE_ERROR, failure.context,
                failure.message, failure.code);
  }
}

void sync_file(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) fail(util::ErrorCode::io, path.string(), std::strerror(errno));
  const int result = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (result != 0) fail(util::ErrorCode::io, "fsync " + path.string(), std::strerror(saved));
}

// ---- SQL functions ---------------------------------------------------------------------------------

std::string_view text_argument(sqlite3_value* value) {
  const auto* bytes = reinterpret_cast<const char*>(sqlite3_value_text(value));
  return bytes ? std::string_view(bytes, static_cast<std::size_t>(sqlite3_value_bytes(value))) : std::string_view();
}

void result_text(sqlite3_context* context, const std::string& text) {
  sqlite3_result_text64(context, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// Where the number of the line's one `"crawl_id":N` is. In a compact dump a quote inside a string
// value is escaped, so the key's spelling occurs nowhere else; a line where it occurs twice (a nested
// key) or not at all gives nullopt, and is parsed instead.
std::optional<std::pair<std::size_t, std::size_t>> crawl_id_span(std::string_view line) {
  constexpr std::string_view kKey = "\"crawl_id\":";
  const auto at = line.find(kKey);
  if (at == std::string_view::npos || line.find(kKey, at + 1) != std::string_view::npos) return std::nullopt;
  const std::size_t begin = at + kKey.size();
  std::size_t end = begin;
  while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
  if (end == begin || end == line.size() || (line[end] != ',' && line[end] != '}')) return std::nullopt;
  return std::pair{begin, end};
}

// cj_with_crawl_id(line, id): a crawl_sites line (the JSON line the crawl wrote) naming the merged
// crawl, every other byte as the crawl wrote it; unchanged when the id is. The number is replaced in
// place (measured: parsing each 6 KB line was the largest part of a 1M-site merge); a line of
// another shape is parsed and dumped as the crawl dumps (db::dump_json, keys sorted).
void with_crawl_id(sqlite3_context* context, int, sqlite3_value** arguments) {
  const std::string_view line = text_argument(arguments[0]);
  const std::int64_t id = sqlite3_value_int64(arguments[1]);
  const std::string wanted = std::to_string(id);
  if (const auto span = crawl_id_span(line)) {
    if (line.substr(span->first, span->second - span->first) == wanted) {
      sqlite3_result_value(context, arguments[0]);
      return;
    }
    std::string out;
    out.reserve(line.size() + wanted.size());
    out.append(line.substr(0, span->first)).append(wanted).append(line.substr(span->second));
    result_text(context, out);
    return;
  }
  json parsed = json::parse(line, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("crawl_id") || !parsed["crawl_id"].is_number_integer() ||
      parsed["crawl_id"].get<std::int64_t>() == id) {
    sqlite3_result_value(context, arguments[0]);
    return;
  }
  parsed["crawl_id"] = id;
  result_text(context, dump_json(parsed));
}

// cj_entry_evidence(visit_id, evidence_json): an entry's latest evidence, as VisitRecord::entry_evidence.
void entry_evidence(sqlite3_context* context, int, sqlite3_value** arguments) {
  const std::int64_t visit_id = sqlite3_value_int64(arguments[0]);
  const json evidence = json::parse(text_argument(arguments[1]), nullptr, false);
  json reasons = evidence.is_object() && evidence.contains("reasons") ? evidence["reasons"] : json::array();
  result_text(context, dump_json({{"visit_id", visit_id}, {"reasons", std::move(reasons)}}));
}

void register_functions(Database& database) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  if (sqlite3_create_function_v2(database.handle(), "cj_with_crawl_id", 2, flags, nullptr, with_crawl_id, nullptr,
                                 nullptr, nullptr) != SQLITE_OK ||
      sqlite3_create_function_v2(database.handle(), "cj_entry_evidence", 2, flags, nullptr, entry_evidence, nullptr,
                                 nullptr, nullptr) != SQLITE_OK)
    fail(util::ErrorCode::internal, "merge", "cannot register the merge's SQL functions");
}

// Ctrl-C: SQLite checks this every few thousand steps and stops the statement with SQLITE_INTERRUPT.
int check_stop(void* stop) { return static_cast<const std::atomic<bool>*>(stop)->load() ? 1 : 0; }

// ---- 3a. Crawls ------------------------------------------------------------------------------------

// A crawl's selection, "shard=I/N limit=L", "shard=I,J/N limit=L" (merged) or "shard=all limit=L".
struct Selection {
  std::string limit;    // "none" or a number
  int shard_count = 0;  // 0: the whole list
  std::set<int> shards;
};

std::optional<Selection> parse_selection(std::string_view text) {
  constexpr std::string_view kShard = "shard=";
  const auto space = text.find(" limit=");
  if (!text.starts_with(kShard) || space == std::string_view::npos) return std::nullopt;
  Selection selection;
  selection.limit = std::string(text.substr(space + 7));
  const std::string_view shard = text.substr(kShard.size(), space - kShard.size());
  if (shard == "all") return selection;
  const auto slash = shard.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  try {
    selection.shard_count = std::stoi(std::string(shard.substr(slash + 1)));
    std::string_view indexes = shard.substr(0, slash);
    while (!indexes.empty()) {
      const auto comma = std::min(indexes.find(','), indexes.size());
      selection.shards.insert(std::stoi(std::string(indexes.substr(0, comma))));
      indexes.remove_prefix(std::min(comma + 1, indexes.size()));
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (selection.shard_count <= 0 || selection.shards.empty()) return std::nullopt;
  return selection;
}

std::string selection_text(const Selection& selection) {
  if (selection.shard_count == 0) return "shard=all limit=" + selection.limit;
  std::string indexes;
  for (int shard : selection.shards) indexes += (indexes.empty() ? "" : ",") + std::to_string(shard);
  return "shard=" + indexes + "/" + std::to_string(selection.shard_count) + " limit=" + selection.limit;
}

// A crawls row as the store reads it (done and name unused: the merge refuses named crawls).
using CrawlRowData = Store::CrawlRow;

constexpr std::string_view kSelectCrawls =
    "SELECT id, started_ms, coalesce(finished_ms, 0), input_path, input_digest, selection, total, state, "
    "coalesce(options_json, '') FROM {}.crawls ORDER BY id";

std::vector<CrawlRowData> read_crawls(const Database& database, const std::string& schema) {
  std::string sql(kSelectCrawls);
  sql.replace(sql.find("{}"), 2, schema);
  Statement select = database.prepare(sql);
  std::vector<CrawlRowData> rows;
  while (select.step())
    rows.push_back(CrawlRowData{.id = select.column_int64(0),
                                .started_ms = select.column_int64(1),
                                .finished_ms = select.column_int64(2),
                                .input_path = select.column_text(3),
                                .input_digest = select.column_text(4),
                                .selection = select.column_text(5),
                                .total = select.column_int64(6),
                                .state = select.column_text(7),
                                .options_json = select.column_text(8),
                                .done = 0,
                                .name = {}});
  return rows;
}

// One crawl of the merged file: its parts (the crawls of the inputs it was made from), kept in
// options_json's "merged_from" so that a later merge can join more shards to it.
struct MergedCrawl {
  CrawlRowData row;
  std::optional<Selection> selection;  // nullopt: not a shard selection; joined only with itself
  json options;                        // options_json parsed, "merged_from" included
  bool grew = false;                   // gained sites in this merge
};

json part_of(const CrawlRowData& row, const std::string& file) {
  return json{{"file", file},
              {"selection", row.selection},
              {"started_ms", row.started_ms},
              {"finished_ms", row.finished_ms},
              {"state", row.state},
              {"total", row.total}};
}

// The parts a crawl row stands for: those of an earlier merge, or the row itself.
json parts_of(const CrawlRowData& row, const json& options, const std::string& file) {
  if (options.is_object() && options.contains("merged_from") && options["merged_from"].is_array())
    return options["merged_from"];
  return json::array({part_of(row, file)});
}

MergedCrawl merged_crawl(const CrawlRowData& row, const std::string& file) {
  MergedCrawl crawl{row, parse_selection(row.selection), json::parse(row.options_json, nullptr, false)};
  if (!crawl.options.is_object()) crawl.options = json::object();
  crawl.options["merged_from"] = parts_of(row, crawl.options, file);
  return crawl;
}

bool same_part(const json& a, const json& b) {
  return a.value("selection", std::string()) == b.value("selection", std::string()) &&
         a.value("started_ms", std::int64_t{0}) == b.value("started_ms", std::int64_t{0});
}

bool same_key(const MergedCrawl& crawl, const CrawlRowData& row, const std::optional<Selection>& selection) {
  if (crawl.row.input_digest != row.input_digest) return false;
  if (!crawl.selection || !selection) return !crawl.selection && !selection && crawl.row.selection == row.selection;
  return crawl.selection->shard_count == selection->shard_count && crawl.selection->limit == selection->limit;
}

// The merged row from its parts: shards united; per shard index the part with the latest start
// gives its total and state. The crawl is completed when each of its shards is (its selection names
// them; `missing` lists the indexes no input had, which the merge reports).
void recompute_crawl(MergedCrawl& crawl, std::vector<int>& missing) {
  std::map<int, const json*> latest;  // shard index → part
  const json* whole = nullptr;        // for an unsharded (or unparsed) crawl: its latest part
  std::int64_t started = 0, finished = 0;
  bool all_completed = true;
  for (const json& part : crawl.options["merged_from"]) {
    const auto started_ms = part.value("started_ms", std::int64_t{0});
    started = started == 0 ? started_ms : std::min(started, started_ms);
    finished = std::max(finished, part.value("finished_ms", std::int64_t{0}));
    const auto selection = parse_selection(part.value("selection", std::string()));
    if (crawl.selection && crawl.selection->shard_count > 0 && selection) {
      for (int shard : selection->shards) {
        auto& slot = latest[shard];
        if (!slot || slot->value("started_ms", std::int64_t{0}) < started_ms) slot = &part;
      }
    } else if (!whole || whole->value("started_ms", std::int64_t{0}) < started_ms) {
      whole = &part;
    }
  }
  std::int64_t total = 0;
  std::set<const json*> counted;
  if (whole) {
    total = whole->value("total", std::int64_t{0});
    all_completed = whole->value("state", std::string()) == "completed";
  }
  missing.clear();
  if (crawl.selection && crawl.selection->shard_count > 0) {
    crawl.selection->shards.clear();
    for (const auto& [shard, part] : latest) {
      crawl.selection->shards.insert(shard);
      if (counted.insert(part).second) total += part->value("total", std::int64_t{0});
      if (part->value("state", std::string()) != "completed") all_completed = false;
    }
    for (int shard = 0; shard < crawl.selection->shard_count; ++shard)
      if (!latest.contains(shard)) missing.push_back(shard);
    crawl.row.selection = selection_text(*crawl.selection);
  }
  crawl.row.total = total;
  crawl.row.started_ms = started;
  const json& parts = crawl.options["merged_from"];
  crawl.row.state = all_completed       ? "completed"
                    : parts.size() == 1 ? parts[0].value("state", std::string("interrupted"))
                                        : "interrupted";
  crawl.row.finished_ms = all_completed ? finished : 0;
  crawl.row.options_json = dump_json(crawl.options);
}

// ---- The merge -------------------------------------------------------------------------------------

class Merge {
 public:
  Merge(Database& database, MergeReport& report, std::string out_name)
      : db_(database), report_(report), out_name_(std::move(out_name)) {}

  void begin() {
    db_.exec(R"sql(
PRAGMA foreign_keys = OFF;
PRAGMA temp_store = FILE;
PRAGMA cache_size = -65536;
CREATE TEMP TABLE map_crawl (src INTEGER PRIMARY KEY, id INTEGER NOT NULL);
CREATE TEMP TABLE map_visit (src INTEGER PRIMARY KEY, id INTEGER NOT NULL, fresh INTEGER NOT NULL);
CREATE TEMP TABLE map_entry (src INTEGER PRIMARY KEY, id INTEGER NOT NULL);
CREATE TEMP TABLE map_source (src INTEGER PRIMARY KEY, id INTEGER NOT NULL);
CREATE TEMP TABLE site_visits (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE touched (entry_id INTEGER PRIMARY KEY);
CREATE TEMP TABLE site_plan (
  src_crawl INTEGER NOT NULL, position INTEGER NOT NULL, merged INTEGER NOT NULL, src_visit INTEGER,
  kept_visit INTEGER, action TEXT NOT NULL, PRIMARY KEY (src_crawl, position)) WITHOUT ROWID;
)sql");
    for (const auto& row : read_crawls(db_, "main")) crawls_.push_back(merged_crawl(row, out_name_));
    entries_before_ = scalar(db_, "SELECT count(*) FROM main.blacklist");
  }

  void add(const fs::path& input) {
    Statement attach = db_.prepare("ATTACH ?1 AS src");
    attach.bind_text(1, "file:" + uri_path(fs::absolute(input).string()) + "?mode=ro");
    attach.run();
    try {
      Transaction transaction(db_);  // one snapshot of the input, one write of the temporary
      db_.exec(
          "DELETE FROM temp.map_crawl; DELETE FROM temp.map_visit; DELETE FROM temp.map_entry; "
          "DELETE FROM temp.map_source; DELETE FROM temp.site_visits; DELETE FROM temp.site_plan;");
      add_crawls(input.string());
      add_sites_and_visits(input.string());
      add_entries();
      add_sources();
      transaction.commit();
    } catch (...) {
      detach();
      throw;
    }
    detach();
  }

  void finish(std::int64_t input_generation) {
    Transaction transaction(db_);
    recompute_entries();
    renumber_grown_crawls();
    report_.entries = scalar(db_, "SELECT count(*) FROM main.blacklist");
    report_.new_entries = report_.entries - entries_before_;
    const std::int64_t generation =
        std::max(scalar(db_, "SELECT value FROM main.meta WHERE key = 'generation'"), input_generation) + 1;
    Statement bump = db_.prepare("UPDATE main.meta SET value = ?1 WHERE key = 'generation'");
    bump.bind_int64(1, generation);
    bump.run();
    report_.generation = generation;
    Statement check = db_.prepare("PRAGMA foreign_key_check");
    if (check.step())
      fail(util::ErrorCode::internal, "merge",
           "the merged file fails its foreign key check (table " + check.column_text(0) + "): a bug, please report it");
    transaction.commit();
  }

  std::int64_t changed() const { return changed_; }

 private:
  static std::string uri_path(const std::string& path) {
    std::string out;
    for (unsigned char c : path) {
      if (std::isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }

  void detach() noexcept {
    try {
      db_.exec("DETACH src");
    } catch (const Error&) {
    }
  }

  // Runs `sql` (with `bind` applied) and counts the rows it changed in the merged file's own tables.
  template <class Bind = void (*)(Statement&)>
  std::int64_t write(
      std::string_view sql, Bind bind = [](Statement&) {}) {
    Statement statement = db_.prepare(sql);
    bind(statement);
    statement.run();
    return db_.changes();
  }

  // The shards a selection covers; {-1} for the whole list (or a selection that is not a shard's).
  static std::set<int> shards_of(const std::optional<Selection>& selection) {
    return selection && selection->shard_count > 0 ? selection->shards : std::set<int>{-1};
  }

  // The merged crawl a crawl of the input joins: the one already holding this very part (a merge
  // again); else one of the same list, shard count and limit that no other crawl of this input has
  // joined with overlapping shards (two crawls of one file are two crawls: a list crawled again
  // without --resume); else none, and it becomes a crawl of its own.
  std::vector<MergedCrawl>::iterator crawl_to_join(const CrawlRowData& row, const std::optional<Selection>& selection,
                                                   const std::string& file,
                                                   const std::vector<std::pair<std::int64_t, std::set<int>>>& joined) {
    const json parts = parts_of(row, json::parse(row.options_json, nullptr, false), file);
    for (auto crawl = crawls_.begin(); crawl != crawls_.end(); ++crawl) {
      if (!same_key(*crawl, row, selection)) continue;
      for (const json& part : parts)
        for (const json& known : crawl->options["merged_from"])
          if (same_part(part, known)) return crawl;
    }
    const std::set<int> mine = shards_of(selection);
    return std::find_if(crawls_.begin(), crawls_.end(), [&](const MergedCrawl& crawl) {
      if (!same_key(crawl, row, selection)) return false;
      for (const auto& other : joined)  // (not a structured binding: clang 14 cannot capture one)
        if (other.first == crawl.row.id &&
            std::any_of(mine.begin(), mine.end(), [&](int shard) { return other.second.contains(shard); }))
          return false;
      return true;
    });
  }

  void add_crawls(const std::string& file) {
    std::vector<std::pair<std::int64_t, std::set<int>>> joined;  // this input's: merged crawl, shards
    for (const auto& row : read_crawls(db_, "src")) {
      const auto selection = parse_selection(row.selection);
      auto found = crawl_to_join(row, selection, file, joined);
      std::vector<int> missing;
      if (found == crawls_.end()) {
        MergedCrawl crawl = merged_crawl(row, file);
        recompute_crawl(crawl, missing);
        Statement insert = db_.prepare(
            "INSERT INTO main.crawls (started_ms, finished_ms, input_path, input_digest, selection, total, state, "
            "options_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        bind_crawl(insert, crawl.row);
        insert.run();
        crawl.row.id = db_.last_insert_rowid();
        ++changed_;
        crawls_.push_back(std::move(crawl));
        found = std::prev(crawls_.end());
      } else {
        json& parts = found->options["merged_from"];
        for (const json& part : parts_of(row, json::parse(row.options_json, nullptr, false), file)) {
          const auto known =
              std::find_if(parts.begin(), parts.end(), [&](const json& other) { return same_part(part, other); });
          if (known == parts.end()) {
            parts.push_back(part);
          } else {  // the shard went on after an earlier merge: its latest state
            (*known)["state"] = part.value("state", std::string());
            (*known)["finished_ms"] = part.value("finished_ms", std::int64_t{0});
            (*known)["total"] = part.value("total", std::int64_t{0});
          }
        }
        const CrawlRowData before = found->row;
        recompute_crawl(*found, missing);
        if (found->row.selection != before.selection || found->row.total != before.total ||
            found->row.state != before.state || found->row.started_ms != before.started_ms ||
            found->row.finished_ms != before.finished_ms || found->row.options_json != before.options_json) {
          Statement update = db_.prepare(
              "UPDATE main.crawls SET started_ms = ?1, finished_ms = ?2, input_path = ?3, input_digest = ?4, "
              "selection = ?5, total = ?6, state = ?7, options_json = ?8 WHERE id = ?9");
          bind_crawl(update, found->row);
          update.bind_int64(9, found->row.id);
          update.run();
          ++changed_;
        }
      }
      joined.emplace_back(found->row.id, shards_of(selection));
      Statement map = db_.prepare("INSERT INTO temp.map_crawl (src, id) VALUES (?1, ?2)");
      map.bind_int64(1, row.id).bind_int64(2, found->row.id);
      map.run();
      note_crawl(*found, missing);
    }
  }

  static void bind_crawl(Statement& statement, const CrawlRowData& row) {
    statement.bind_int64(1, row.started_ms);
    if (row.finished_ms == 0) statement.bind_null(2);
    else statement.bind_int64(2, row.finished_ms);
    statement.bind_text(3, row.input_path)
        .bind_text(4, row.input_digest)
        .bind_text(5, row.selection)
        .bind_int64(6, row.total)
        .bind_text(7, row.state)
        .bind_text(8, row.options_json);
  }

  void note_crawl(const MergedCrawl& crawl, const std::vector<int>& missing) {
    auto listed = std::find_if(report_.crawls.begin(), report_.crawls.end(),
                               [&](const MergeReport::Crawl& known) { return known.id == crawl.row.id; });
    if (listed == report_.crawls.end()) {
      report_.crawls.push_back(MergeReport::Crawl{crawl.row.id, {}, {}, {}});
      listed = std::prev(report_.crawls.end());
    }
    listed->selection = crawl.row.selection;
    listed->state = crawl.row.state;
    listed->missing_shards = missing;
  }

  // Every site of the input is planned as new (no record of it yet), same (this very record, by
  // start time, is there: mapped, not copied) or dup (another record of it is there, or comes
  // earlier in this input: dropped and reported). Then visits get ids and are copied, and sites.
  void add_sites_and_visits(const std::string& file) {
    db_.exec(R"sql(
INSERT INTO temp.site_plan (src_crawl, position, merged, src_visit, kept_visit, action)
SELECT s.crawl_id, s.position, m.id, s.visit_id, o.visit_id,
  CASE
    WHEN o.position IS NULL THEN
      CASE WHEN EXISTS (SELECT 1 FROM temp.map_crawl m2 JOIN src.crawl_sites s2
                        ON s2.crawl_id = m2.src AND s2.position = s.position
                        WHERE m2.id = m.id AND m2.src < s.crawl_id) THEN 'dup' ELSE 'new' END
    WHEN o.visit_id IS NULL AND s.visit_id IS NULL THEN 'same'
    WHEN o.visit_id IS NOT NULL AND s.visit_id IS NOT NULL
         AND (SELECT started_at_ms FROM main.visits WHERE id = o.visit_id)
           = (SELECT started_at_ms FROM src.visits WHERE id = s.visit_id) THEN 'same'
    ELSE 'dup'
  END
FROM src.crawl_sites s JOIN temp.map_crawl m ON m.src = s.crawl_id
LEFT JOIN main.crawl_sites o ON o.crawl_id = m.id AND o.position = s.position
)sql");
    db_.exec("INSERT OR IGNORE INTO temp.site_visits SELECT visit_id FROM src.crawl_sites WHERE visit_id IS NOT NULL");

    // Fresh ids continue after the merged file's last visit, in the input's order.
    write(R"sql(
INSERT INTO temp.map_visit (src, id, fresh)
SELECT src_visit, (SELECT coalesce(max(id), 0) FROM main.visits) + row_number() OVER (ORDER BY src_visit), 1
FROM temp.site_plan WHERE action = 'new' AND src_visit IS NOT NULL
)sql");
    db_.exec(
        "INSERT INTO temp.map_visit (src, id, fresh) SELECT src_visit, kept_visit, 0 FROM temp.site_plan "
        "WHERE action = 'same' AND src_visit IS NOT NULL");
    // Visits of `check` (no site): the same record is the same input, URL and start time.
    db_.exec(R"sql(
INSERT INTO temp.map_visit (src, id, fresh)
SELECT v.id, o.id, 0 FROM src.visits v JOIN main.visits o
  ON o.url = v.url AND o.input IS v.input AND o.started_at_ms = v.started_at_ms
WHERE v.id NOT IN (SELECT id FROM temp.site_visits)
  AND o.id = (SELECT min(o2.id) FROM main.visits o2
              WHERE o2.url = v.url AND o2.input IS v.input AND o2.started_at_ms = v.started_at_ms)
)sql");
    db_.exec(R"sql(
INSERT INTO temp.map_visit (src, id, fresh)
SELECT v.id, (SELECT max(id) FROM (SELECT coalesce(max(id), 0) AS id FROM main.visits
                                   UNION ALL SELECT coalesce(max(id), 0) FROM temp.map_visit WHERE fresh = 1))
             + row_number() OVER (ORDER BY v.id), 1
FROM src.visits v
WHERE v.id NOT IN (SELECT id FROM temp.site_visits) AND v.id NOT IN (SELECT src FROM temp.map_visit)
)sql");

    const std::int64_t visits = write(R"sql(
INSERT INTO main.visits (id, started_at_ms, input, url, final_url, status, status_reason, verdict, confidence,
                         evidence_json, cpu_samples_json, elapsed_ms)
SELECT m.id, v.started_at_ms, v.input, v.url, v.final_url, v.status, v.status_reason, v.verdict, v.confidence,
       v.evidence_json, v.cpu_samples_json, v.elapsed_ms
FROM temp.map_visit m JOIN src.visits v ON v.id = m.src WHERE m.fresh = 1 ORDER BY m.id
)sql");
    report_.new_visits += visits;
    changed_ += visits;
    const std::int64_t sites = write(R"sql(
INSERT INTO main.crawl_sites (crawl_id, position, seq, input, visit_id, status, verdict, attempt, line, done_ms)
SELECT p.merged, s.position, 0, s.input, mv.id, s.status, s.verdict, s.attempt, cj_with_crawl_id(s.line, p.merged),
       s.done_ms
FROM temp.site_plan p JOIN src.crawl_sites s ON s.crawl_id = p.src_crawl AND s.position = p.position
LEFT JOIN temp.map_visit mv ON mv.src = p.src_visit
WHERE p.action = 'new'
)sql");
    report_.new_sites += sites;
    changed_ += sites;
    if (sites > 0) {
      Statement grown = db_.prepare("SELECT DISTINCT merged FROM temp.site_plan WHERE action = 'new'");
      while (grown.step())
        for (auto& crawl : crawls_)
          if (crawl.row.id == grown.column_int64(0)) crawl.grew = true;
    }
    report_.already_there += scalar(db_, "SELECT count(*) FROM temp.site_plan WHERE action = 'same'");
    report_duplicates(file);
  }

  void report_duplicates(const std::string& file) {
    Statement duplicates = db_.prepare(R"sql(
SELECT p.merged, p.position, s.input, coalesce((SELECT started_at_ms FROM main.visits WHERE id = o.visit_id), 0),
       coalesce((SELECT started_at_ms FROM src.visits WHERE id = p.src_visit), 0)
FROM temp.site_plan p JOIN src.crawl_sites s ON s.crawl_id = p.src_crawl AND s.position = p.position
LEFT JOIN main.crawl_sites o ON o.crawl_id = p.merged AND o.position = p.position
WHERE p.action = 'dup' ORDER BY p.merged, p.position
)sql");
    while (duplicates.step()) {
      ++report_.duplicate_count;
      if (report_.duplicates.size() < MergeReport::kMaxListed)
        report_.duplicates.push_back({duplicates.column_int64(0), duplicates.column_int64(1), duplicates.column_text(2),
                                      file, duplicates.column_int64(3), duplicates.column_int64(4)});
    }
  }

  // New (kind, value) pairs come in; an entry both sides have is updated here only while no visit
  // has named it on either side (feed and review entries): named ones are recomputed at the end.
  void add_entries() {
    // An entry comes in with a proof link to a visit that came in (or was there already), or with
    // a feed or review listing: one named only by a dropped duplicate's visit stays out.
    changed_ += write(R"sql(
INSERT INTO main.blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json, not_seen)
SELECT b.kind, b.value, b.first_seen_ms, b.last_seen_ms, 0, b.confidence, b.evidence_json, 0 FROM src.blacklist b
WHERE EXISTS (SELECT 1 FROM src.entry_visits ev JOIN temp.map_visit mv ON mv.src = ev.visit_id
              WHERE ev.entry_id = b.id)
   OR EXISTS (SELECT 1 FROM src.entry_sources e JOIN src.sources f ON f.id = e.source_id AND f.name != 'crawl'
              WHERE e.entry_id = b.id)
ON CONFLICT (kind, value) DO UPDATE SET
  first_seen_ms = min(coalesce(first_seen_ms, excluded.first_seen_ms), coalesce(excluded.first_seen_ms, first_seen_ms)),
  last_seen_ms = max(coalesce(last_seen_ms, excluded.last_seen_ms), coalesce(excluded.last_seen_ms, last_seen_ms)),
  confidence = max(coalesce(confidence, 0), coalesce(excluded.confidence, 0)),
  evidence_json = CASE WHEN excluded.last_seen_ms > last_seen_ms THEN excluded.evidence_json ELSE evidence_json END
WHERE blacklist.hits = 0 AND (excluded.first_seen_ms < blacklist.first_seen_ms
                              OR excluded.last_seen_ms > blacklist.last_seen_ms
                              OR coalesce(excluded.confidence, 0) > coalesce(blacklist.confidence, 0))
)sql");
    db_.exec(
        "INSERT INTO temp.map_entry (src, id) SELECT s.id, b.id FROM src.blacklist s "
        "JOIN main.blacklist b ON b.kind = s.kind AND b.value = s.value");
    // A feed's confidence counts wherever a feed lists the entry (import keeps the higher of the
    // feed's and the visits'), even where visits had named it on OUT's side.
    changed_ += write(R"sql(
UPDATE main.blacklist SET confidence = s.confidence
FROM src.blacklist s JOIN temp.map_entry me ON me.src = s.id
WHERE blacklist.id = me.id AND s.confidence > coalesce(blacklist.confidence, 0)
  AND EXISTS (SELECT 1 FROM src.entry_sources e JOIN src.sources f ON f.id = e.source_id AND f.name != 'crawl'
              WHERE e.entry_id = s.id)
)sql");
    // The entries this input brings a new sighting to: only theirs are recomputed at the end.
    db_.exec(R"sql(
INSERT OR IGNORE INTO temp.touched (entry_id)
SELECT me.id FROM src.entry_visits ev JOIN temp.map_entry me ON me.src = ev.entry_id
JOIN temp.map_visit mv ON mv.src = ev.visit_id WHERE mv.fresh = 1
)sql");
    changed_ += write(R"sql(
INSERT OR IGNORE INTO main.entry_visits (entry_id, visit_id)
SELECT me.id, mv.id FROM src.entry_visits ev
JOIN temp.map_entry me ON me.src = ev.entry_id JOIN temp.map_visit mv ON mv.src = ev.visit_id
)sql");
  }

  // Sources: the row fetched last wins. Feed and review listings are united, the later listing
  // giving the state; the crawl's own listings are recomputed with the entries.
  void add_sources() {
    changed_ += write(R"sql(
INSERT INTO main.sources (name, format, etag, last_modified, last_fetch_ms, last_change_ms, entry_count, last_error)
SELECT name, format, etag, last_modified, last_fetch_ms, last_change_ms, entry_count, last_error
FROM src.sources WHERE true
ON CONFLICT (name) DO UPDATE SET format = excluded.format, etag = excluded.etag,
  last_modified = excluded.last_modified, last_fetch_ms = excluded.last_fetch_ms,
  last_change_ms = excluded.last_change_ms, entry_count = excluded.entry_count, last_error = excluded.last_error
WHERE coalesce(excluded.last_fetch_ms, 0) > coalesce(sources.last_fetch_ms, 0)
)sql");
    db_.exec(
        "INSERT INTO temp.map_source (src, id) SELECT s.id, m.id FROM src.sources s "
        "JOIN main.sources m ON m.name = s.name");
    changed_ += write(R"sql(
INSERT INTO main.entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms, removed_ms, reason,
                                removed_reason)
SELECT me.id, ms.id, e.first_listed_ms, e.last_listed_ms, e.removed_ms, e.reason, e.removed_reason
FROM src.entry_sources e JOIN src.sources s ON s.id = e.source_id AND s.name != 'crawl'
JOIN temp.map_entry me ON me.src = e.entry_id JOIN temp.map_source ms ON ms.src = e.source_id
WHERE true
ON CONFLICT (entry_id, source_id) DO UPDATE SET
  first_listed_ms = min(first_listed_ms, excluded.first_listed_ms),
  last_listed_ms = max(last_listed_ms, excluded.last_listed_ms),
  removed_ms = CASE WHEN excluded.last_listed_ms > last_listed_ms THEN excluded.removed_ms ELSE removed_ms END,
  reason = CASE WHEN excluded.last_listed_ms > last_listed_ms THEN excluded.reason ELSE reason END,
  removed_reason = CASE WHEN excluded.last_listed_ms > last_listed_ms THEN excluded.removed_reason
                   ELSE removed_reason END
WHERE excluded.last_listed_ms > entry_sources.last_listed_ms
   OR excluded.first_listed_ms < entry_sources.first_listed_ms
)sql");
  }

  // ---- 4. The aggregates -------------------------------------------------------------------------
  // record_visit's upsert, applied to all sightings at once. A sighting is a cryptojacking visit's
  // proof link, at the time it was committed: its crawl site's done_ms (the upsert's now), or for a
  // `check` visit (no site) its start plus its length. Per entry: hits = sightings; last seen and the
  // crawl listing's last = the latest; first seen = the earliest sighting or feed listing; the
  // crawl listing's first = the earliest sighting; confidence = the highest (and the feed's, when a
  // feed lists it too: the merged row holds the highest its inputs had); evidence = the latest
  // sighting's reasons. Only the entries an input brought a new sighting to are recomputed (the
  // others are as their file had them; a `check` visit's commit time is approximated, so they are
  // left alone), and rows already equal are not written: a merge that adds nothing changes nothing.
  void recompute_entries() {
    db_.exec(R"sql(
CREATE TEMP TABLE IF NOT EXISTS visit_done (visit_id INTEGER PRIMARY KEY, done_ms INTEGER NOT NULL);
DELETE FROM temp.visit_done;
INSERT OR IGNORE INTO temp.visit_done SELECT visit_id, done_ms FROM main.crawl_sites
  WHERE verdict = 'cryptojacking' AND visit_id IS NOT NULL;
CREATE TEMP TABLE IF NOT EXISTS sighting (entry_id INTEGER, visit_id INTEGER, at_ms INTEGER, confidence INTEGER,
  PRIMARY KEY (entry_id, visit_id)) WITHOUT ROWID;
DELETE FROM temp.sighting;
INSERT INTO temp.sighting
SELECT ev.entry_id, v.id, coalesce(d.done_ms, v.started_at_ms + v.elapsed_ms), v.confidence
FROM temp.touched t JOIN main.entry_visits ev ON ev.entry_id = t.entry_id JOIN main.visits v ON v.id = ev.visit_id
LEFT JOIN temp.visit_done d ON d.visit_id = v.id
WHERE v.verdict = 'cryptojacking';
CREATE TEMP TABLE IF NOT EXISTS aggregate (entry_id INTEGER PRIMARY KEY, hits INTEGER, first_ms INTEGER,
  last_ms INTEGER, confidence INTEGER, latest INTEGER, listed_first_ms INTEGER);
DELETE FROM temp.aggregate;
INSERT INTO temp.aggregate
SELECT s.entry_id, count(*), min(s.at_ms), max(s.at_ms), max(s.confidence),
  (SELECT t.visit_id FROM temp.sighting t WHERE t.entry_id = s.entry_id ORDER BY t.at_ms DESC, t.visit_id DESC LIMIT 1),
  (SELECT min(e.first_listed_ms) FROM main.entry_sources e JOIN main.sources f ON f.id = e.source_id
   WHERE e.entry_id = s.entry_id AND f.name != 'crawl')
FROM temp.sighting s GROUP BY s.entry_id;
)sql");
    changed_ += write(R"sql(
UPDATE main.blacklist SET
  hits = n.hits, first_seen_ms = n.first_seen_ms, last_seen_ms = n.last_seen_ms, confidence = n.confidence,
  evidence_json = n.evidence_json, not_seen = 0
FROM (SELECT a.entry_id,
        a.hits,
        min(a.first_ms, coalesce(a.listed_first_ms, a.first_ms)) AS first_seen_ms,
        a.last_ms AS last_seen_ms,
        CASE WHEN a.listed_first_ms IS NULL THEN a.confidence
             ELSE max(a.confidence, coalesce(b.confidence, 0)) END AS confidence,
        cj_entry_evidence(a.latest, (SELECT evidence_json FROM main.visits WHERE id = a.latest)) AS evidence_json
      FROM temp.aggregate a JOIN main.blacklist b ON b.id = a.entry_id) n
WHERE blacklist.id = n.entry_id
  AND (blacklist.hits IS NOT n.hits OR blacklist.first_seen_ms IS NOT n.first_seen_ms
       OR blacklist.last_seen_ms IS NOT n.last_seen_ms OR blacklist.confidence IS NOT n.confidence
       OR blacklist.evidence_json IS NOT n.evidence_json OR blacklist.not_seen != 0)
)sql");
    changed_ += write(R"sql(
INSERT INTO main.entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms)
SELECT a.entry_id, (SELECT id FROM main.sources WHERE name = 'crawl'), a.first_ms, a.last_ms
FROM temp.aggregate a WHERE true
ON CONFLICT (entry_id, source_id) DO UPDATE SET first_listed_ms = excluded.first_listed_ms,
  last_listed_ms = excluded.last_listed_ms, removed_ms = NULL, removed_reason = NULL
WHERE entry_sources.first_listed_ms IS NOT excluded.first_listed_ms
   OR entry_sources.last_listed_ms IS NOT excluded.last_listed_ms OR entry_sources.removed_ms IS NOT NULL
)sql");
  }

  // ---- 5. Commit order -----------------------------------------------------------------------------
  // seq is the order sites were committed (crawl_lines_after pages by it): across shards, done_ms.
  void renumber_grown_crawls() {
    for (const auto& crawl : crawls_) {
      if (!crawl.grew) continue;
      Statement renumber = db_.prepare(R"sql(
UPDATE main.crawl_sites SET seq = r.n
FROM (SELECT position, row_number() OVER (ORDER BY done_ms, position) AS n FROM main.crawl_sites
      WHERE crawl_id = ?1) r
WHERE crawl_sites.crawl_id = ?1 AND crawl_sites.position = r.position AND crawl_sites.seq != r.n
)sql");
      renumber.bind_int64(1, crawl.row.id);
      renumber.run();
    }
  }

  Database& db_;
  MergeReport& report_;
  std::string out_name_;
  std::vector<MergedCrawl> crawls_;
  std::int64_t entries_before_ = 0;
  std::int64_t changed_ = 0;
};

MergeReport merge(const fs::path& out_given, const std::vector<fs::path>& inputs_given, const std::atomic<bool>* stop) {
  MergeReport report;
  if (out_given.has_parent_path()) {
    std::error_code error;
    if (!fs::is_directory(out_given.parent_path(), error))
      fail(util::ErrorCode::invalid_argument, out_given.string(),
           "there is no folder " + out_given.parent_path().string() + " (create it first)");
  }
  // The real file behind OUT, so a symlinked OUT is replaced where it points.
  std::error_code error;
  const bool out_exists = fs::exists(out_given, error);
  const fs::path out = out_exists ? fs::canonical(out_given) : fs::absolute(out_given);
  const auto inputs = checked_inputs(out, inputs_given, report.notes);
  std::int64_t input_generation = 0;
  for (const auto& input : inputs) input_generation = std::max(input_generation, check_input(input, report.notes));
  if (out_exists) {
    if (fs::file_size(out, error) == 0)
      fail(util::ErrorCode::not_a_database, out.string(), "empty: not a cjcrawl database");
    check_input(out, report.notes);
    settle_write_ahead_log(out);  // after check_input: its read-only look may leave an empty -wal
  }

  remove_stale_temporaries(out);
  TemporaryFile temporary(temporary_path(out));
  start_temporary(out, out_exists, temporary.path());
  std::int64_t changed = 0;
  {
    Database database(temporary.path().string(), Database::kDefaultOpenFlags | SQLITE_OPEN_URI);
    // Disposable until the rename: no journal, no syncs until the end.
    database.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF");
    register_functions(database);
    if (stop) sqlite3_progress_handler(database.handle(), 10000, check_stop, const_cast<std::atomic<bool>*>(stop));
    Merge merge(database, report, out.filename().string());
    const auto check_interrupt = [&] {
      if (stop && stop->load()) fail(util::ErrorCode::internal, "merge", "interrupted");
    };
    merge.begin();
    for (const auto& input : inputs) {
      check_interrupt();
      merge.add(input);
    }
    check_interrupt();
    merge.finish(input_generation);
    check_interrupt();
    changed = merge.changed();
    database.exec("PRAGMA journal_mode = DELETE");  // one self-contained file: a reader needs no -shm
  }
  if (out_exists && changed == 0) return report;  // the temporary goes; OUT keeps every byte

  if (out_exists) {  // the merged file keeps OUT's permissions
    struct stat status {};
    if (::stat(out.c_str(), &status) == 0) ::chmod(temporary.path().c_str(), status.st_mode & 07777);
  }
  sync_file(temporary.path(), false);
  std::error_code exists_error;
  if (fs::exists(out.string() + "-wal", exists_error))
    fail(util::ErrorCode::busy, out.string(),
         "is open in another process (a crawl? serve?): stop it, or merge into a new file");
  fs::rename(temporary.path(), out, error);
  if (error) fail(util::ErrorCode::io, "rename " + temporary.path().string() + " to " + out.string(), error.message());
  temporary.release();
  sync_file(out.parent_path(), true);
  report.written = true;
  return report;
}

}  // namespace

util::Result<MergeReport> merge_sqlite(const fs::path& out, const std::vector<fs::path>& inputs,
                                       const std::atomic<bool>* stop) {
  return guarded([&] { return merge(out, inputs, stop); });
}

}  // namespace db
