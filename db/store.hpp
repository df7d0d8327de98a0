// db/store.hpp — the store, behind one interface: what the crawl, import, export and the feed need.
//
// A store keeps one row per visit (with its full evidence JSON), the blacklist (entries deduplicated
// by kind and value, with first/last seen, hits, confidence and who lists them: the crawl or an
// imported feed), the crawls (a batch of sites, recorded one committed site at a time), the sources,
// and a generation counter that moves with every change to the blacklist (feed ETags). SQLite
// (db/sqlite_store.hpp) implements it; a second backend implements the same interface, so its callers
// never change. Every operation returns a util::Result: a failure is classified (busy, locked,
// corrupt, read_only, full, cannot_open, schema_too_new, ...) and never carries a backend's raw code
// outside db/ except as native_code.
//
// Guarantees every backend keeps:
//   * a visit, its blacklist upserts and its crawl progress commit in one transaction, or not at all;
//   * the generation moves in the same transaction as the change it counts;
//   * values round-trip byte for byte (NUL, quotes and invalid UTF-8 included); JSON columns are valid
//     UTF-8 (invalid bytes become U+FFFD);
//   * a schema version, migrated forward by writers, refused when newer than this binary's.
// A Store is used by one thread at a time (the crawl gives its own to a worker thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blacklist/evidence.hpp"
#include "blacklist/known.hpp"
#include "db/export.hpp"
#include "util/status.hpp"

namespace db {

class CrawlQueue;  // db/queue.hpp

// One row of the blacklist table.
struct BlacklistEntry {
  std::string kind;                // page, ws_endpoint, domain, script_url, script_path, ip, wasm_sha256, allow
  std::string value;               // the page URL, the socket URL without query and fragment, the host, ...
  std::int64_t first_seen_ms = 0;  // Unix epoch milliseconds of the first / latest recording visit
  std::int64_t last_seen_ms = 0;
  std::int64_t hits = 0;      // cryptojacking visits that named this entry
  int confidence = 0;         // the highest judgement confidence seen, 0–100
  std::string evidence_json;  // {"visit_id": <latest visit>, "reasons": [...]} of the latest visit
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

class Store {
 public:
  // The schema this binary writes. A store with a newer version is refused (schema_too_new); an
  // older one is migrated forward by a writer.
  static constexpr int kSchemaVersion = 5;

  virtual ~Store() = default;

  // ---- Visits.

  // A site of a crawl, recorded with its visit in the same transaction.
  struct CrawlSite {
    std::int64_t crawl_id = 0;
    std::int64_t position = 0;  // the site's line in the input: unique within a crawl
    int attempt = 1;            // visits made for the site, retries included; a shared crawl's: its lease attempt
    std::string line;           // the JSON line the crawl writes for it (kept to reconcile --out)
    // A shared crawl's (CrawlQueue) lease attempt, 0 for any other crawl. The record commits only if
    // this attempt is still the site's current one (fencing), in the visit's transaction; otherwise
    // nothing is stored and the error is `superseded`.
    std::int64_t lease_attempt = 0;
  };
  // Records one visit in one transaction: the visits row and, if the verdict is cryptojacking, an
  // upsert of each offender the judgement names (page, script_url, ws_endpoint keyed by
  // blacklist::endpoint_key, domain, wasm_sha256) into the blacklist; with `site`, the crawl site row
  // too. An upsert never duplicates a (kind, value): it keeps first_seen_ms, sets last_seen_ms =
  // now_ms, adds one hit, keeps the highest confidence and replaces evidence_json. Empty URLs are
  // not blacklisted. On any error nothing of the visit is stored (e.g. a crawl site recorded twice:
  // constraint). The visit id.
  virtual util::Result<std::int64_t> record_visit(const blacklist::Evidence& evidence,
                                                  const blacklist::Judgement& judgement, std::int64_t now_ms,
                                                  const CrawlSite* site = nullptr) = 0;
  virtual util::Result<std::optional<VisitRow>> visit(std::int64_t id) const = 0;
  virtual util::Result<std::int64_t> visit_count() const = 0;
  // The newest visits first; only those whose verdict is in `verdicts` (empty: all). limit clamped to 1–1000.
  virtual util::Result<std::vector<VisitRow>> latest_visits(const std::vector<std::string>& verdicts,
                                                            int limit) const = 0;

  // ---- Crawls: a batch of sites, recorded one committed site at a time.

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
    std::int64_t done = 0;  // sites recorded
    std::string name;       // a shared crawl's name (--crawl NAME), or ""
  };
  struct CrawlLine {
    std::int64_t position = 0;
    std::string status;
    std::string verdict;
    std::string line;
  };
  // Input lines a crawl does not visit (status `skipped`: not a site), with no visit row, all in one
  // transaction. Each keeps its JSON line, so a resume and `--out` treat them as they treat sites.
  struct SkippedLine {
    std::int64_t position = 0;  // the line number
    std::string input;          // the line, quoted for printing
    std::string verdict;
    std::string line;  // the JSON line
  };
  virtual util::Status record_skipped(std::int64_t crawl_id, const std::vector<SkippedLine>& lines,
                                      std::int64_t now_ms) = 0;
  // A new crawl from id-less `crawl` (started_ms, input_*, selection, total, options_json); its id.
  virtual util::Result<std::int64_t> begin_crawl(const CrawlRow& crawl) = 0;
  virtual util::Status set_crawl_state(std::int64_t crawl_id, std::string_view state, std::int64_t now_ms) = 0;
  virtual util::Result<std::optional<CrawlRow>> crawl(std::int64_t id) const = 0;
  // The latest crawl of exactly this input and selection, or nullopt.
  virtual util::Result<std::optional<CrawlRow>> find_crawl(std::string_view input_path, std::string_view input_digest,
                                                           std::string_view selection) const = 0;
  virtual util::Result<std::vector<CrawlRow>> crawls() const = 0;  // by id
  // The recorded sites of a crawl, in the order they were committed (whole lines: for tests and small
  // crawls; a resume reads positions, then single lines).
  virtual util::Result<std::vector<CrawlLine>> crawl_lines(std::int64_t crawl_id) const = 0;
  virtual util::Result<std::vector<std::int64_t>> crawl_positions(std::int64_t crawl_id) const = 0;
  virtual util::Result<std::optional<std::string>> crawl_line(std::int64_t crawl_id, std::int64_t position) const = 0;
  // Up to `limit` (1–10000) recorded lines of a crawl after input position `after`, in input order:
  // `crawl-lines` streams a crawl's output with it, whoever recorded each site.
  virtual util::Result<std::vector<CrawlLine>> crawl_lines_after(std::int64_t crawl_id, std::int64_t after,
                                                                 int limit) const = 0;

  // ---- Sources: who lists each entry. 'crawl' is cjcrawl's own; every imported feed is one more.

  struct SourceRow {
    std::int64_t id = 0;
    std::string name;  // "crawl", or the feed's URL or file path as given to import
    std::string format;
    std::string etag;           // from the last 200 response, for If-None-Match
    std::string last_modified;  // likewise, for If-Modified-Since
    std::int64_t last_fetch_ms = 0;
    std::int64_t last_change_ms = 0;
    std::int64_t entry_count = 0;
    std::string last_error;  // empty after a successful fetch
  };
  virtual util::Result<std::optional<SourceRow>> source(std::string_view name) const = 0;
  virtual util::Result<std::vector<SourceRow>> sources() const = 0;  // by name

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
  // twice changes nothing but the fetch time. `name` may not be "crawl" (invalid_argument).
  virtual util::Result<ImportChange> replace_source_entries(std::string_view name, std::string_view format,
                                                            const std::vector<ListedEntry>& entries,
                                                            std::string_view etag, std::string_view last_modified,
                                                            int confidence, std::int64_t now_ms) = 0;
  // A fetch that changed nothing (HTTP 304: error empty) or failed (error set), noted on the source.
  virtual util::Status note_source_fetch(std::string_view name, std::string_view error, std::int64_t now_ms) = 0;

  // ---- Proof, rechecks and reviewed exceptions.
  //
  // Proof: every cryptojacking visit is linked to each entry it named, in the visit's transaction; an
  // entry's last_seen_ms is when a visit last confirmed it.
  //
  // A recheck is a crawl (input_path "recheck") over the pages behind page entries the crawl lists.
  // Each site's outcome is applied in its visit's transaction (record_visit with `site`), so a resumed
  // recheck never counts a page twice:
  //   confirmed    (verdict cryptojacking): the page's not-seen streak resets, its last confirmation
  //                moves, and a page the crawl had dropped is listed again;
  //   not_seen     (status ok, any other verdict): the streak grows by one; at `drop_after` the crawl
  //                stops listing the page, and every entry only that page's visits named (sockets,
  //                scripts, domains, Wasm hashes), each with why and when (entry_sources keeps them);
  //   undetermined (any other status: unreachable, DNS, timeout...): recorded, nothing else changes.
  // Entries other sources list are never touched: they follow their source.
  struct RecheckPage {
    std::int64_t position = 0;  // 1-based, in the recheck's order
    std::int64_t entry_id = 0;
    std::string url;
  };
  // Page entries the crawl lists now, last confirmed before `confirmed_before_ms`, oldest first.
  virtual util::Result<std::vector<RecheckPage>> pages_due(std::int64_t confirmed_before_ms) const = 0;
  // A new recheck: its crawl row (from id-less `crawl`) and its pages, in one transaction; its id.
  virtual util::Result<std::int64_t> begin_recheck(const CrawlRow& crawl, const std::vector<RecheckPage>& pages,
                                                   std::int64_t confirmed_before_ms, int drop_after) = 0;
  virtual util::Result<std::vector<RecheckPage>> recheck_pages(std::int64_t crawl_id) const = 0;
  // The newest recheck, or nullopt.
  virtual util::Result<std::optional<CrawlRow>> latest_recheck() const = 0;
  struct RecheckTally {
    std::int64_t confirmed = 0;
    std::int64_t not_seen = 0;
    std::int64_t undetermined = 0;
    std::int64_t dropped = 0;  // pages that left the feeds in this recheck
  };
  virtual util::Result<RecheckTally> recheck_tally(std::int64_t crawl_id) const = 0;

  // A reviewed false positive: an allow entry for `value` (a host or a URL, already checked) listed by
  // the 'review' source with `reason`. Allow entries win over every source in the feeds. Recording
  // the same value again replaces the reason. The entry's id.
  virtual util::Result<std::int64_t> allow(std::string_view value, std::string_view reason, std::int64_t now_ms) = 0;

  // Everything that backs one entry.
  struct EntryListing {
    std::string source;
    std::int64_t first_listed_ms = 0;
    std::int64_t last_listed_ms = 0;
    std::int64_t removed_ms = 0;  // 0: listed now
    std::string reason;           // why it was listed (a review's reason), or ""
    std::string removed_reason;   // why it was dropped, or ""
  };
  struct EntryRecheck {
    std::int64_t visit_id = 0;
    std::int64_t crawl_id = 0;
    std::string outcome;        // confirmed, not_seen, undetermined
    std::int64_t not_seen = 0;  // the streak after it
    bool dropped = false;       // this recheck dropped the page
    std::int64_t at_ms = 0;
  };
  struct EntryProof {
    std::int64_t id = 0;
    BlacklistEntry entry;
    bool active = false;  // listed by some source now
    std::int64_t not_seen = 0;
    std::vector<EntryListing> listings;
    std::vector<EntryRecheck> rechecks;  // newest first, at most `limit`
    std::vector<VisitRow> visits;        // the visits that named it, newest first, at most `limit`
    std::int64_t visit_count = 0;        // all of them
  };
  virtual util::Result<std::optional<EntryProof>> entry_proof(std::int64_t id, int limit) = 0;

  // ---- The blacklist, read.

  // Bumped by every change to the blacklist or to who lists what; survives restarts (feed ETags).
  virtual util::Result<std::int64_t> generation() const = 0;

  // What `export` and the feed select: active entries (listed by some source now), filtered.
  struct ExportFilter {
    std::vector<std::string> kinds;  // empty: every kind
    std::string source = "all";      // "all", "crawl" (listed by the crawl), "import" (by any feed)
    std::int64_t seen_since_ms = 0;  // last_seen at or after (--since, --max-age)
    int min_confidence = 0;
  };
  virtual util::Result<std::vector<ExportEntry>> export_entries(const ExportFilter& filter) const = 0;

  // What a feed serves, read in one consistent snapshot, ended before this returns (a slow client
  // must never hold the store). changed_ms is when the blacklist last changed, derived from the data
  // (latest last_seen, removal, or source change), so it is the same for the same generation across
  // restarts: feeds use it for Last-Modified and the headers.
  struct FeedSnapshot {
    std::int64_t generation = 0;
    std::int64_t changed_ms = 0;
    std::vector<ExportEntry> entries;
  };
  virtual util::Result<FeedSnapshot> feed_snapshot(const ExportFilter& filter) = 0;

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
  virtual util::Result<EntryPage> entries_page(std::string_view kind, std::string_view contains, std::int64_t after_id,
                                               int limit) = 0;

  // Counts for the dashboard.
  struct Summary {
    std::int64_t generation = 0;
    std::int64_t visits = 0;
    std::int64_t detections = 0;                                       // visits judged cryptojacking
    std::vector<std::pair<std::string, std::int64_t>> active_by_kind;  // by kind name
  };
  virtual util::Result<Summary> summary() = 0;

  // The blacklist as the detector consults it: every active entry, by kind (blacklist::KnownEntries).
  virtual util::Result<blacklist::KnownEntries> known_entries() const = 0;
  // All blacklist entries, sorted by kind, then value (bytewise).
  virtual util::Result<std::vector<BlacklistEntry>> blacklist_entries() const = 0;

  // The schema version of the open store; kSchemaVersion once a writer has opened it.
  virtual util::Result<int> schema_version() const = 0;
  // Where the store lives, as the user named it (a file name, ":memory:"), for messages. Never a
  // password: a PostgreSQL location is shown without it.
  virtual const std::string& location() const = 0;

  // The lease queue of shared crawls (db/queue.hpp), or nullptr: a store only one machine writes
  // (SQLite) has none.
  virtual CrawlQueue* queue() { return nullptr; }
};

// How a command opens its store.
enum class OpenMode {
  write,     // created if missing (never its folder: a missing folder is an error), migrated forward
  existing,  // must exist; migrated forward (recheck: a missing file is a typo)
  inspect,   // must exist; migrated forward when this user may write it, else read as it is, which then
             // needs kSchemaVersion (export, crawls, crawl-lines: a read-only copy is still readable)
  read,      // must exist and be at kSchemaVersion: a reader never writes (serve)
};

// `location` as messages show it: a SQLite path as given, a PostgreSQL one without its password.
std::string shown_location(const std::string& location);

// Opens the store at `location`: a SQLite file path, or a PostgreSQL URI (postgresql://...) or
// key=value string (db/pg.hpp). The error names the location, never a password.
util::Result<std::unique_ptr<Store>> open_store(const std::string& location, OpenMode mode);

}  // namespace db
