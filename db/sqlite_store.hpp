// db/sqlite_store.hpp — the store on one SQLite file (the embedded default), or in memory.
//
// Schema versioned with PRAGMA user_version and migrated forward on open by writers. WAL, so readers
// (the feed server, a second cjcrawl) run beside the writer; writers wait up to kBusyTimeoutMs for
// another process's lock, then fail with `busy`. Raw columns (visits.input/url/final_url/
// status_reason, blacklist.value) are TEXT bound with an explicit length. Statements for every
// crawled site are prepared once per connection (Database::cached). Internally the SQLite wrappers
// throw db::Error (sqlite.hpp, SQLiteCpp's way); each operation of the interface turns that into a
// classified util::Error (guarded).
#pragma once

#include <filesystem>
#include <string>

#include "db/sqlite.hpp"
#include "db/store.hpp"

namespace db {

class SqliteStore final : public Store {
 public:
  // How long a write waits for another process's write lock before failing with busy.
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens or creates the database at `path` (creating missing parent directories), switches it to
  // WAL, enables foreign keys and migrates it to kSchemaVersion. The error names the file: it cannot
  // be created (cannot_open), is not a SQLite database (not_a_database), cannot use WAL, or was
  // written by a newer cjcrawl (schema_too_new).
  static util::Result<SqliteStore> open(const std::filesystem::path& path);
  // A private, empty, migrated in-memory database (for tests and dry runs).
  static SqliteStore open_memory();
  // Opens an existing database for reading only (SQLITE_OPEN_READONLY): the feed server. The file
  // must exist and be at kSchemaVersion; an older file is refused with a message saying to let a
  // writing command (check, import) migrate it, so that a reader never writes.
  static util::Result<SqliteStore> open_readonly(const std::filesystem::path& path);

  SqliteStore(SqliteStore&&) noexcept = default;
  SqliteStore& operator=(SqliteStore&&) noexcept = default;

  util::Result<std::int64_t> record_visit(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                                          std::int64_t now_ms, const CrawlSite* site = nullptr) override;
  util::Result<std::optional<VisitRow>> visit(std::int64_t id) const override;
  util::Result<std::int64_t> visit_count() const override;
  util::Result<std::vector<VisitRow>> latest_visits(const std::vector<std::string>& verdicts, int limit) const override;

  util::Status record_skipped(std::int64_t crawl_id, const std::vector<SkippedLine>& lines,
                              std::int64_t now_ms) override;
  util::Result<std::int64_t> begin_crawl(const CrawlRow& crawl) override;
  util::Status set_crawl_state(std::int64_t crawl_id, std::string_view state, std::int64_t now_ms) override;
  util::Result<std::optional<CrawlRow>> crawl(std::int64_t id) const override;
  util::Result<std::optional<CrawlRow>> find_crawl(std::string_view input_path, std::string_view input_digest,
                                                   std::string_view selection) const override;
  util::Result<std::vector<CrawlRow>> crawls() const override;
  util::Result<std::vector<CrawlLine>> crawl_lines(std::int64_t crawl_id) const override;
  util::Result<std::vector<std::int64_t>> crawl_positions(std::int64_t crawl_id) const override;
  util::Result<std::optional<std::string>> crawl_line(std::int64_t crawl_id, std::int64_t position) const override;
  util::Result<std::vector<CrawlLine>> crawl_lines_after(std::int64_t crawl_id, std::int64_t after,
                                                         int limit) const override;

  util::Result<std::optional<SourceRow>> source(std::string_view name) const override;
  util::Result<std::vector<SourceRow>> sources() const override;
  util::Result<ImportChange> replace_source_entries(std::string_view name, std::string_view format,
                                                    const std::vector<ListedEntry>& entries, std::string_view etag,
                                                    std::string_view last_modified, int confidence,
                                                    std::int64_t now_ms) override;
  util::Status note_source_fetch(std::string_view name, std::string_view error, std::int64_t now_ms) override;

  util::Result<std::vector<RecheckPage>> pages_due(std::int64_t confirmed_before_ms) const override;
  util::Result<std::int64_t> begin_recheck(const CrawlRow& crawl, const std::vector<RecheckPage>& pages,
                                           std::int64_t confirmed_before_ms, int drop_after) override;
  util::Result<std::vector<RecheckPage>> recheck_pages(std::int64_t crawl_id) const override;
  util::Result<std::optional<CrawlRow>> latest_recheck() const override;
  util::Result<RecheckTally> recheck_tally(std::int64_t crawl_id) const override;
  util::Result<std::int64_t> allow(std::string_view value, std::string_view reason, std::int64_t now_ms) override;
  util::Result<std::optional<EntryProof>> entry_proof(std::int64_t id, int limit) override;

  util::Result<std::int64_t> generation() const override;
  util::Result<std::vector<ExportEntry>> export_entries(const ExportFilter& filter) const override;
  util::Result<FeedSnapshot> feed_snapshot(const ExportFilter& filter) override;
  util::Result<EntryPage> entries_page(std::string_view kind, std::string_view contains, std::int64_t after_id,
                                       int limit) override;
  util::Result<Summary> summary() override;
  util::Result<blacklist::KnownEntries> known_entries() const override;
  util::Result<std::vector<BlacklistEntry>> blacklist_entries() const override;
  util::Result<int> schema_version() const override;
  const std::string& location() const override { return database_.filename(); }

 private:
  explicit SqliteStore(Database database);
  // Applies the pending migrations, each in its own transaction with its user_version bump.
  void migrate();
  // The same reads, throwing db::Error: for operations that make them inside their own work.
  std::int64_t current_generation() const;
  std::vector<SourceRow> sources_now() const;
  std::vector<ExportEntry> export_entries_now(const ExportFilter& filter) const;
  // A recheck site's outcome, inside record_visit's transaction (sqlite_proof.cpp).
  void apply_recheck(const CrawlSite& site, std::int64_t visit_id, blacklist::Status status, blacklist::Verdict verdict,
                     std::int64_t now_ms);
  void drop_page(std::int64_t entry_id, const std::string& reason, std::int64_t now_ms);
  std::int64_t insert_crawl(const CrawlRow& crawl);  // a crawls row, 'running'; its id

  Database database_;
};

}  // namespace db
