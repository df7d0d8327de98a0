// db/pg_store.hpp — the store on one shared PostgreSQL database: the same interface, schema meaning
// and guarantees as the SQLite store (db/store.hpp), for several machines at once.
//
// The schema mirrors SQLite's migrations step for step, with the schema version in its own table
// (schema_version) and migrations serialised across writers by an advisory lock. Raw page bytes
// (visits.input/url/final_url/status_reason, blacklist.value, crawl_sites.input, recheck_pages.url)
// are BYTEA, so they round-trip exactly; text is COLLATE "C", so every ORDER BY is bytewise as in
// SQLite. Entries are unique by (kind, sha256(value)) (a btree cannot index a value of any length).
// The generation moves in the changing transaction through triggers, as in SQLite; the meta row they
// update also serialises blacklist writers, so two writers never hand out the same generation.
//
// A dropped connection (server restart, network) fails the operation in flight with `unavailable`;
// the next operation reconnects first. The connection string (password included) is kept only to
// reconnect: messages name location(), which never carries the password.
#pragma once

#include <memory>
#include <string>

#include "db/pg.hpp"
#include "db/queue.hpp"
#include "db/store.hpp"

namespace db {

class PgStore final : public Store, public CrawlQueue {
 public:
  // Connects to `location` (a libpq URI or key=value string). A writer (OpenMode::write) migrates the
  // schema forward; OpenMode::existing also refuses a database cjcrawl never wrote (a typo in the
  // name must not create a store); a reader (OpenMode::read: serve) only checks that the schema is at
  // kSchemaVersion, and its session is read-only (default_transaction_read_only), so it never writes.
  static util::Result<std::unique_ptr<PgStore>> open(const std::string& location, OpenMode mode);

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
  const std::string& location() const override { return display_; }
  CrawlQueue* queue() override { return this; }

  // ---- The lease queue (db/queue.hpp; pg_queue.cpp).
  util::Result<CrawlRow> create_or_join(std::string_view name, const CrawlRow& row,
                                        const std::vector<QueuedSite>& sites, const SkippedLines& skipped) override;
  util::Result<std::optional<CrawlRow>> named_crawl(std::string_view name) const override;
  util::Result<Claim> claim(std::int64_t crawl_id, std::string_view owner, std::chrono::seconds lease,
                            int max_attempts) override;
  util::Result<std::vector<std::int64_t>> renew(std::int64_t crawl_id,
                                                const std::vector<std::pair<std::int64_t, std::int64_t>>& leases,
                                                std::chrono::seconds lease) override;
  util::Status release(std::int64_t crawl_id, std::int64_t position, std::int64_t attempt,
                       std::string_view error) override;
  util::Result<QueueState> queue_state(std::int64_t crawl_id, std::chrono::seconds window) const override;

  // The connection, for the crawl queue (db/pg_queue.cpp) and tests: reconnected if it dropped.
  const pg::Connection& connection() const;

 private:
  PgStore(std::string location, pg::Connection connection, bool read_only);
  void migrate();
  // Runs `work` on a live connection (reconnecting first if the last one dropped) as db::guarded does.
  template <class Work>
  auto run(Work&& work) const -> util::Result<std::invoke_result_t<Work&>>;
  std::int64_t current_generation() const;
  std::vector<SourceRow> sources_now() const;
  std::vector<ExportEntry> export_entries_now(const ExportFilter& filter) const;
  std::int64_t insert_crawl(const CrawlRow& crawl) const;
  std::optional<CrawlRow> crawl_named(std::string_view name) const;  // the shared crawl called `name`
  void apply_recheck(const CrawlSite& site, std::int64_t visit_id, blacklist::Status status, blacklist::Verdict verdict,
                     std::int64_t now_ms) const;
  void drop_page(std::int64_t entry_id, const std::string& reason, std::int64_t now_ms) const;
  // Inside record_visit's transaction: the site's attempt must still be current (throws superseded).
  void fence(const CrawlSite& site) const;
  // A test hook: CJCRAWL_TEST_RECORD_DELAY_MS makes a shared crawl's record wait that long before its
  // transaction (so a test can let the lease lapse meanwhile). Unset in every real run.
  static void test_commit_delay();

  std::string location_;  // as given (may hold a password): only ever passed to libpq
  std::string display_;   // without the password: for every message
  bool read_only_ = false;
  mutable pg::Connection connection_;
};

template <class Work>
auto PgStore::run(Work&& work) const -> util::Result<std::invoke_result_t<Work&>> {
  return guarded([&] {
    (void)connection();  // reconnects, or throws `unavailable`
    return work();
  });
}

}  // namespace db
