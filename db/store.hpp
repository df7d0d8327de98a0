// db/store.hpp — the crawl's SQLite store: one row per visit (with its full evidence JSON) and the
// blacklist of pages and WebSocket endpoints seen cryptojacking, deduplicated by (kind, value).
// The schema is versioned with PRAGMA user_version and migrated forward on open.
//
// Raw columns (visits.input/url/final_url/status_reason, blacklist.value) are stored verbatim as
// TEXT with an explicit length: bytes round-trip exactly, even NUL or invalid UTF-8. The JSON columns
// (evidence_json, cpu_samples_json) are valid UTF-8: invalid bytes inside them become U+FFFD.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blacklist/evidence.hpp"
#include "blacklist/known.hpp"
#include "db/export.hpp"
#include "db/sqlite.hpp"

namespace db {

// One row of the blacklist table.
struct BlacklistEntry {
  std::string kind;   // "page" or "ws_endpoint" (later: domain, script_url, ip, wasm_sha256, allow)
  std::string value;  // the page URL, or the socket URL without query and fragment
  std::int64_t first_seen_ms = 0;  // Unix epoch milliseconds of the first / latest recording visit
  std::int64_t last_seen_ms = 0;
  std::int64_t hits = 0;           // cryptojacking visits that named this entry
  int confidence = 0;              // the highest judgement confidence seen, 0–100
  std::string evidence_json;       // {"visit_id": <latest visit>, "reasons": [...]} of the latest visit
};

// One row of the visits table. status and verdict are blacklist::to_string names.
struct VisitRow {
  std::int64_t id = 0;
  std::int64_t started_at_ms = 0;
  std::string input;
  std::string url;
  std::string final_url;
  std::string status;
  std::string status_reason;
  std::string verdict;
  int confidence = 0;
  std::string evidence_json;     // blacklist::to_json(evidence, judgement)
  std::string cpu_samples_json;  // raw samples: [{"t_seconds": ..., "cpu_seconds": ...}, ...]
  std::int64_t elapsed_ms = 0;
};

// Owns one connection. Move-only; single-threaded (one Store per thread). Several processes may
// share a file: WAL lets readers run beside the writer, and writers wait up to kBusyTimeoutMs.
class Store {
 public:
  // The schema this binary writes. A file with a newer user_version is refused; an older one is
  // migrated forward on open.
  static constexpr int kSchemaVersion = 3;
  // How long a write waits for another process's write lock before failing with SQLITE_BUSY.
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens or creates the database at `path` (creating missing parent directories), switches it to
  // WAL, enables foreign keys and migrates it to kSchemaVersion. Throws db::Error naming the file:
  // if it cannot be created, is not a SQLite database, cannot use WAL, or was written by a newer
  // cjcrawl (user_version > kSchemaVersion).
  static Store open(const std::filesystem::path& path);
  // A private, empty, migrated in-memory database (for tests and dry runs).
  static Store open_memory();
  // Opens an existing database for reading only (SQLITE_OPEN_READONLY): the feed server. The file
  // must exist and be at kSchemaVersion; an older file is refused with a message saying to let a
  // writing command (check, import) migrate it, so that a reader never writes. Throws db::Error.
  static Store open_readonly(const std::filesystem::path& path);

  // Records one visit in one transaction: the visits row and, if the verdict is cryptojacking, an
  // upsert of each offender the judgement names (page, script_url, ws_endpoint keyed by
  // blacklist::endpoint_key, domain, wasm_sha256) into the blacklist. An upsert never duplicates a
  // (kind, value): it keeps first_seen_ms, sets last_seen_ms = now_ms, adds one hit, keeps the
  // highest confidence and replaces evidence_json. Empty URLs are not blacklisted.
  // On any error nothing of the visit is stored, and db::Error is thrown. Returns the visit id.
  std::int64_t record_visit(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                            std::int64_t now_ms);

  // --- Crawls: a batch of sites, recorded one committed site at a time. ---

  struct CrawlRow {
    std::int64_t id = 0;
    std::int64_t started_ms = 0;
    std::int64_t finished_ms = 0;  // 0 while running (or after a kill -9)
    std::string input_path;        // absolute path of the input file, or "-" for standard input
    std::string input_digest;      // SHA-256 of its bytes
    std::string selection;         // the options that pick the sites from it ("shard=0/4 limit=100")
    std::int64_t total = 0;        // sites selected
    std::string state;             // running, completed, interrupted, aborted
    std::string options_json;
    std::int64_t done = 0;         // sites recorded
  };
  // A site of a crawl, recorded with its visit in the same transaction (see record_visit).
  struct CrawlSite {
    std::int64_t crawl_id = 0;
    std::int64_t position = 0;  // the site's line in the input: unique within a crawl
    int attempt = 1;            // visits made for the site, retries included
    std::string line;           // the JSON line the crawl writes for it (kept to reconcile --out)
  };
  struct CrawlLine {
    std::int64_t position = 0;
    std::string status;
    std::string verdict;
    std::string line;
  };
  // record_visit, plus the crawl site row, all in one transaction: a site is either wholly recorded
  // (visit, blacklist, crawl progress) or not at all. Throws db::Error (e.g. the site recorded twice).
  std::int64_t record_visit(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                            std::int64_t now_ms, const CrawlSite* site);
  // Input lines a crawl does not visit (status `skipped`: not a site), with no visit row, all in one
  // transaction. Each keeps its JSON line, so a resume and `--out` treat them as they treat sites.
  struct SkippedLine {
    std::int64_t position = 0;  // the line number
    std::string input;          // the line, quoted for printing
    std::string verdict;
    std::string line;           // the JSON line
  };
  void record_skipped(std::int64_t crawl_id, const std::vector<SkippedLine>& lines, std::int64_t now_ms);
  std::int64_t begin_crawl(const CrawlRow& crawl);  // id, started_ms, input_*, selection, total, options_json
  void set_crawl_state(std::int64_t crawl_id, std::string_view state, std::int64_t now_ms);
  std::optional<CrawlRow> crawl(std::int64_t id) const;
  // The latest crawl of exactly this input and selection, or nullopt.
  std::optional<CrawlRow> find_crawl(std::string_view input_path, std::string_view input_digest,
                                     std::string_view selection) const;
  std::vector<CrawlRow> crawls() const;  // by id
  // The recorded sites of a crawl, in the order they were committed (whole lines: for tests and small
  // crawls; a resume reads positions, then single lines).
  std::vector<CrawlLine> crawl_lines(std::int64_t crawl_id) const;
  std::vector<std::int64_t> crawl_positions(std::int64_t crawl_id) const;
  std::optional<std::string> crawl_line(std::int64_t crawl_id, std::int64_t position) const;

  // --- Sources: who lists each entry. 'crawl' is cjcrawl's own; every imported feed is one more. ---

  struct SourceRow {
    std::int64_t id = 0;
    std::string name;           // "crawl", or the feed's URL or file path as given to import
    std::string format;
    std::string etag;           // from the last 200 response, for If-None-Match
    std::string last_modified;  // likewise, for If-Modified-Since
    std::int64_t last_fetch_ms = 0;
    std::int64_t last_change_ms = 0;
    std::int64_t entry_count = 0;
    std::string last_error;     // empty after a successful fetch
  };
  std::optional<SourceRow> source(std::string_view name) const;
  std::vector<SourceRow> sources() const;  // by name

  struct ListedEntry {
    std::string kind;
    std::string value;
  };
  struct ImportChange {
    std::size_t listed = 0;    // distinct entries the source lists now
    std::size_t added = 0;     // entries new to the blacklist
    std::size_t relisted = 0;  // listed again by this source after it had dropped them
    std::size_t removed = 0;   // no longer listed by this source (kept, marked removed for it)
  };
  // Makes `entries` exactly what source `name` lists now, in one transaction: new entries are added
  // (confidence `confidence`, evidence naming the source), entries the source no longer lists are
  // marked removed for that source only (never deleted: history stays, and an entry stays active
  // while any source lists it), and the source row records the fetch. Idempotent: the same list
  // twice changes nothing but the fetch time. `name` may not be "crawl".
  ImportChange replace_source_entries(std::string_view name, std::string_view format,
                                      const std::vector<ListedEntry>& entries, std::string_view etag,
                                      std::string_view last_modified, int confidence, std::int64_t now_ms);
  // A fetch that changed nothing (HTTP 304: error empty) or failed (error set), noted on the source.
  void note_source_fetch(std::string_view name, std::string_view error, std::int64_t now_ms);
  // Bumped by every change to the blacklist or to who lists what; survives restarts (feed ETags).
  std::int64_t generation() const;

  // What `export` and the feed select: active entries (listed by some source now), filtered.
  struct ExportFilter {
    std::vector<std::string> kinds;  // empty: every kind
    std::string source = "all";      // "all", "crawl" (listed by the crawl), "import" (by any feed)
    std::int64_t seen_since_ms = 0;  // last_seen at or after (--since, --max-age)
    int min_confidence = 0;
  };
  std::vector<ExportEntry> export_entries(const ExportFilter& filter) const;

  // What a feed serves, read in one read transaction so the three parts agree, and ended before
  // this returns (a slow client must never hold the WAL). changed_ms is when the blacklist last
  // changed, derived from the data (latest last_seen, removal, or source change), so it is the same
  // for the same generation across restarts: feeds use it for Last-Modified and the headers.
  struct FeedSnapshot {
    std::int64_t generation = 0;
    std::int64_t changed_ms = 0;
    std::vector<ExportEntry> entries;
  };
  FeedSnapshot feed_snapshot(const ExportFilter& filter);

  // One page of active entries, in id order (stable while entries are added), for /api/entries.
  struct PagedEntry {
    std::int64_t id = 0;
    ExportEntry entry;
  };
  struct EntryPage {
    std::int64_t generation = 0;
    std::vector<PagedEntry> entries;
    bool more = false;  // entries after the last one exist
  };
  // kind: "" for every kind. contains: "" or a byte substring of the value. after_id: 0 for the
  // first page, else the last id of the previous page. limit: 1–1000 (clamped).
  EntryPage entries_page(std::string_view kind, std::string_view contains, std::int64_t after_id, int limit);

  // The newest visits first; only those whose verdict is in `verdicts` (empty: all). limit clamped to 1–1000.
  std::vector<VisitRow> latest_visits(const std::vector<std::string>& verdicts, int limit) const;

  // Counts for the dashboard.
  struct Summary {
    std::int64_t generation = 0;
    std::int64_t visits = 0;
    std::int64_t detections = 0;              // visits judged cryptojacking
    std::vector<std::pair<std::string, std::int64_t>> active_by_kind;  // by kind name
  };
  Summary summary();

  // The blacklist as the detector consults it: every active entry, by kind (blacklist::KnownEntries).
  blacklist::KnownEntries known_entries() const;

  // All blacklist entries, sorted by kind, then value (bytewise).
  std::vector<BlacklistEntry> blacklist_entries() const;
  std::optional<VisitRow> visit(std::int64_t id) const;
  std::int64_t visit_count() const;
  // PRAGMA user_version of the open database; kSchemaVersion once open() has returned.
  int schema_version() const;

  // The file name given to open(), or ":memory:".
  const std::string& filename() const noexcept { return database_.filename(); }

 private:
  explicit Store(Database database);
  // Applies the pending migrations, each in its own transaction with its user_version bump.
  void migrate();

  Database database_;
};

}  // namespace db
