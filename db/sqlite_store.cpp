// db/sqlite_store.cpp — schema migrations, visit recording and blacklist upserts.
#include "db/sqlite_store.hpp"

#include "db/pg_store.hpp"
#include "db/visit_record.hpp"

#include "blacklist/known.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <system_error>
#include <utility>

namespace db {
namespace {

// One step of the schema: applying kMigrations[i] brings a database from user_version i to i + 1.
// Append new steps and bump Store::kSchemaVersion; never edit a step that has shipped, since files
// already past it will not run it again.
struct Migration {
  std::string_view summary;
  std::string_view sql;  // one or more statements, run inside the step's transaction
};

constexpr std::array kMigrations{
    Migration{
        "v1: visits, and the blacklist of pages and WebSocket endpoints",
        R"sql(
CREATE TABLE visits (
  id INTEGER PRIMARY KEY,
  started_at_ms INTEGER,
  input TEXT,
  url TEXT,
  final_url TEXT,
  status TEXT,
  status_reason TEXT,
  verdict TEXT,
  confidence INTEGER,
  evidence_json TEXT,
  cpu_samples_json TEXT,
  elapsed_ms INTEGER
);
CREATE INDEX visits_by_url ON visits(url);
CREATE TABLE blacklist (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  first_seen_ms INTEGER,
  last_seen_ms INTEGER,
  hits INTEGER NOT NULL DEFAULT 1,
  confidence INTEGER,
  evidence_json TEXT,
  UNIQUE(kind, value)
);
)sql",
    },
    Migration{
        "v2: sources of entries (crawl, imported feeds), removal per source, a change generation",
        R"sql(
CREATE TABLE sources (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  format TEXT,
  etag TEXT,
  last_modified TEXT,
  last_fetch_ms INTEGER,
  last_change_ms INTEGER,
  entry_count INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
INSERT INTO sources (name, format) VALUES ('crawl', 'crawl');
CREATE TABLE entry_sources (
  entry_id INTEGER NOT NULL REFERENCES blacklist(id) ON DELETE CASCADE,
  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  first_listed_ms INTEGER NOT NULL,
  last_listed_ms INTEGER NOT NULL,
  removed_ms INTEGER,
  PRIMARY KEY (entry_id, source_id)
) WITHOUT ROWID;
CREATE INDEX entry_sources_by_source ON entry_sources(source_id, removed_ms);
INSERT INTO entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms)
  SELECT id, (SELECT id FROM sources WHERE name = 'crawl'), coalesce(first_seen_ms, 0), coalesce(last_seen_ms, 0)
  FROM blacklist;
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('generation', 1);
CREATE TRIGGER blacklist_insert_generation AFTER INSERT ON blacklist
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER blacklist_update_generation AFTER UPDATE ON blacklist
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER blacklist_delete_generation AFTER DELETE ON blacklist
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER entry_sources_insert_generation AFTER INSERT ON entry_sources
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER entry_sources_update_generation AFTER UPDATE OF removed_ms ON entry_sources
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER entry_sources_delete_generation AFTER DELETE ON entry_sources
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
)sql",
    },
    Migration{
        "v3: crawls and the sites each has recorded (resume, output reconciliation)",
        R"sql(
CREATE TABLE crawls (
  id INTEGER PRIMARY KEY,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER,
  input_path TEXT NOT NULL,
  input_digest TEXT NOT NULL,
  selection TEXT NOT NULL,
  total INTEGER NOT NULL,
  state TEXT NOT NULL,
  options_json TEXT
);
CREATE INDEX crawls_by_input ON crawls(input_path, input_digest, selection);
CREATE TABLE crawl_sites (
  crawl_id INTEGER NOT NULL REFERENCES crawls(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  input TEXT NOT NULL,
  visit_id INTEGER REFERENCES visits(id),
  status TEXT NOT NULL,
  verdict TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  line TEXT NOT NULL,
  done_ms INTEGER NOT NULL,
  PRIMARY KEY (crawl_id, position)
) WITHOUT ROWID;
CREATE INDEX crawl_sites_by_seq ON crawl_sites(crawl_id, seq);
)sql",
    },
    Migration{
        "v4: proof (the visits that named each entry), rechecks and their outcomes, reviewed exceptions",
        R"sql(
ALTER TABLE blacklist ADD COLUMN not_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entry_sources ADD COLUMN reason TEXT;
ALTER TABLE entry_sources ADD COLUMN removed_reason TEXT;
DROP TRIGGER blacklist_update_generation;
CREATE TRIGGER blacklist_update_generation
  AFTER UPDATE OF kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json ON blacklist
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
DROP TRIGGER entry_sources_update_generation;
CREATE TRIGGER entry_sources_update_generation AFTER UPDATE OF removed_ms, reason ON entry_sources
  BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TABLE entry_visits (
  entry_id INTEGER NOT NULL REFERENCES blacklist(id) ON DELETE CASCADE,
  visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
  PRIMARY KEY (entry_id, visit_id)
) WITHOUT ROWID;
CREATE INDEX entry_visits_by_visit ON entry_visits(visit_id, entry_id);
INSERT OR IGNORE INTO entry_visits (entry_id, visit_id)
  SELECT b.id, v.id FROM blacklist b JOIN visits v ON v.id = json_extract(b.evidence_json, '$.visit_id')
  WHERE json_valid(b.evidence_json);
INSERT OR IGNORE INTO entry_visits (entry_id, visit_id)
  SELECT b.id, v.id FROM visits v, json_each(v.evidence_json, '$.offenders') o
  JOIN blacklist b ON b.kind = json_extract(o.value, '$.kind') AND b.value = json_extract(o.value, '$.value')
  WHERE v.verdict = 'cryptojacking' AND json_valid(v.evidence_json);
CREATE TABLE rechecks (
  crawl_id INTEGER PRIMARY KEY REFERENCES crawls(id) ON DELETE CASCADE,
  confirmed_before_ms INTEGER NOT NULL,
  drop_after INTEGER NOT NULL
);
CREATE TABLE recheck_pages (
  crawl_id INTEGER NOT NULL REFERENCES rechecks(crawl_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  entry_id INTEGER NOT NULL REFERENCES blacklist(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  PRIMARY KEY (crawl_id, position)
) WITHOUT ROWID;
CREATE TABLE entry_rechecks (
  entry_id INTEGER NOT NULL REFERENCES blacklist(id) ON DELETE CASCADE,
  visit_id INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
  crawl_id INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  not_seen INTEGER NOT NULL,
  dropped INTEGER NOT NULL DEFAULT 0,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (entry_id, visit_id)
) WITHOUT ROWID;
CREATE INDEX entry_rechecks_by_crawl ON entry_rechecks(crawl_id, outcome);
)sql",
    },
    Migration{
        "v5: named crawls and their lease queue (shared PostgreSQL crawls fill them; one machine's never does, "
        "and the step keeps both backends at one version)",
        R"sql(
ALTER TABLE crawls ADD COLUMN name TEXT;
CREATE UNIQUE INDEX crawls_by_name ON crawls(name) WHERE name IS NOT NULL;
CREATE TABLE crawl_queue (
  crawl_id INTEGER NOT NULL REFERENCES crawls(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  input TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued',
  attempt INTEGER NOT NULL DEFAULT 0,
  owner TEXT,
  lease_until TEXT,
  last_error TEXT,
  PRIMARY KEY (crawl_id, position)
) WITHOUT ROWID;
CREATE TABLE crawl_attempts (
  crawl_id INTEGER NOT NULL,
  position INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  owner TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  outcome TEXT,
  error TEXT,
  PRIMARY KEY (crawl_id, position, attempt),
  FOREIGN KEY (crawl_id, position) REFERENCES crawl_queue(crawl_id, position) ON DELETE CASCADE
) WITHOUT ROWID;
)sql",
    },
};
static_assert(kMigrations.size() == Store::kSchemaVersion, "Store::kSchemaVersion must equal the number of migrations");

constexpr std::string_view kInsertVisit = R"sql(
INSERT INTO visits (started_at_ms, input, url, final_url, status, status_reason, verdict, confidence,
                    evidence_json, cpu_samples_json, elapsed_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
)sql";

// coalesce: max() with a NULL argument is NULL in SQLite, and confidence is a nullable column.
constexpr std::string_view kUpsertBlacklist = R"sql(
INSERT INTO blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json)
VALUES (?1, ?2, ?3, ?3, 1, ?4, ?5)
ON CONFLICT (kind, value) DO UPDATE SET
  last_seen_ms = excluded.last_seen_ms,
  hits = hits + 1,
  confidence = max(coalesce(confidence, 0), excluded.confidence),
  evidence_json = excluded.evidence_json,
  not_seen = 0
)sql";

// The crawl lists what it blacklists: the entry becomes (or stays) active through the 'crawl' source.
constexpr std::string_view kListByCrawl = R"sql(
INSERT INTO entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms)
SELECT b.id, s.id, ?3, ?3 FROM blacklist b, sources s WHERE b.kind = ?1 AND b.value = ?2 AND s.name = 'crawl'
ON CONFLICT (entry_id, source_id) DO UPDATE SET last_listed_ms = excluded.last_listed_ms, removed_ms = NULL,
  removed_reason = NULL
)sql";

// The proof: the visit named the entry.
constexpr std::string_view kLinkVisit = R"sql(
INSERT OR IGNORE INTO entry_visits (entry_id, visit_id) SELECT id, ?3 FROM blacklist WHERE kind = ?1 AND value = ?2
)sql";

// Active entries: listed by at least one source right now.
constexpr std::string_view kSelectActive = R"sql(
SELECT kind, value FROM blacklist b
WHERE EXISTS (SELECT 1 FROM entry_sources e WHERE e.entry_id = b.id AND e.removed_ms IS NULL)
)sql";

// The columns read_visit_row reads, in its order.
constexpr std::string_view kVisitColumns = R"sql(
SELECT id, started_at_ms, input, url, final_url, status, status_reason, verdict, confidence,
       evidence_json, cpu_samples_json, elapsed_ms
FROM visits
)sql";

constexpr std::string_view kSelectBlacklist = R"sql(
SELECT kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json
FROM blacklist ORDER BY kind, value
)sql";

// A visits row, from a statement selecting kVisitColumns.
VisitRow read_visit_row(const Statement& select) {
  return VisitRow{
      .id = select.column_int64(0),
      .started_at_ms = select.column_int64(1),
      .input = select.column_text(2),
      .url = select.column_text(3),
      .final_url = select.column_text(4),
      .status = select.column_text(5),
      .status_reason = select.column_text(6),
      .verdict = select.column_text(7),
      .confidence = static_cast<int>(select.column_int64(8)),
      .evidence_json = select.column_text(9),
      .cpu_samples_json = select.column_text(10),
      .elapsed_ms = select.column_int64(11),
  };
}

// An entry from the columns kind, value, first_seen, last_seen, hits, confidence, evidence and the
// newline-joined source names, starting at column `first`.
ExportEntry read_export_entry(const Statement& select, int first) {
  ExportEntry entry;
  entry.kind = select.column_text(first);
  entry.value = select.column_text(first + 1);
  entry.first_seen_ms = select.column_int64(first + 2);
  entry.last_seen_ms = select.column_int64(first + 3);
  entry.hits = select.column_int64(first + 4);
  entry.confidence = static_cast<int>(select.column_int64(first + 5));
  entry.evidence_json = select.column_text(first + 6);
  entry.sources = split_names(select.column_text(first + 7));
  return entry;
}

int read_user_version(const Database& database) {
  Statement statement = database.prepare("PRAGMA user_version");
  statement.step();  // PRAGMA user_version always yields one row
  return static_cast<int>(statement.column_int64(0));
}

// Throws unless this binary knows how to read a database at `version`.
void check_supported(const Database& database, int version) {
  if (version > Store::kSchemaVersion)
    throw Error(SQLITE_ERROR, "open " + database.filename(),
                "its schema version is " + std::to_string(version) + " but this cjcrawl supports up to version " +
                    std::to_string(Store::kSchemaVersion) +
                    ": it was written by a newer cjcrawl; upgrade cjcrawl or use another --db",
                util::ErrorCode::schema_too_new);
  if (version < 0)
    throw Error(SQLITE_ERROR, "open " + database.filename(),
                "its schema version is " + std::to_string(version) +
                    ", which no cjcrawl writes; it is not a cjcrawl database, use another --db",
                util::ErrorCode::not_a_database);
}

// WAL lets readers (reports, a second cjcrawl) run while a crawl writes. journal_mode answers with
// the mode actually in force, which stays the old one where WAL is unavailable (e.g. some network
// filesystems); the store refuses to run there rather than silently lose that concurrency.
void use_write_ahead_log(Database& database) {
  Statement statement = database.prepare("PRAGMA journal_mode = WAL");
  statement.step();
  const std::string mode = statement.column_text(0);
  if (mode != "wal")
    throw Error(SQLITE_CANTOPEN, "open " + database.filename(),
                "cannot switch to WAL journal mode (it stays '" + mode + "'); put the database on a local filesystem");
}

// SQLite says only "unable to open database file" (or "attempt to write a readonly database") when
// the operating system refuses; this finds which refusal it was, in words, for the user running
// cjcrawl (effective ids). Empty when no permission explains it. A WAL database needs its folder too:
// readers and writers create `-wal` and `-shm` files beside it.
std::string permission_problem(const std::filesystem::path& path, bool write) {
  const auto allowed = [](const std::filesystem::path& file, int mode) {
    return ::faccessat(AT_FDCWD, file.c_str(), mode, AT_EACCESS) == 0;
  };
  const passwd* user = ::getpwuid(::geteuid());
  const std::string who = user != nullptr ? std::string("user ") + user->pw_name : "this user";
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code error;
  const bool exists = std::filesystem::exists(path, error);
  if (exists && !allowed(path, R_OK)) return "permission denied: " + who + " cannot read the file";
  if (exists && write && !allowed(path, W_OK)) return "permission denied: " + who + " cannot write the file";
  if (!allowed(folder, X_OK)) return "permission denied: " + who + " cannot enter the folder " + folder.string();
  const bool sidecars = std::filesystem::exists(path.string() + "-shm", error);
  if ((write || !exists || !sidecars) && !allowed(folder, W_OK))
    return "permission denied: " + who + " cannot create files in the folder " + folder.string() +
           (exists ? " (SQLite keeps its -wal and -shm files beside the database)" : "");
  return {};
}

// Rethrows `error` under `context`, in words when a permission explains it.
[[noreturn]] void rethrow_open_error(const Error& error, const std::string& context, const std::filesystem::path& path,
                                     bool write) {
  const int primary = error.code() & 0xff;
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_PERM || primary == SQLITE_IOERR) {
    const std::string problem = permission_problem(path, write);
    if (!problem.empty()) throw Error(error.code(), context, problem, util::ErrorCode::permission);
  }
  if (error.context() == context) throw error;
  // e.g. "open /x/visits.db: PRAGMA journal_mode = WAL: file is not a database"
  throw Error(error.code(), context, error.what(), error.kind());
}

}  // namespace

SqliteStore::SqliteStore(Database database) : database_(std::move(database)) {}

util::Result<SqliteStore> SqliteStore::open(const std::filesystem::path& path) {
  return guarded([&]() -> SqliteStore {
    const std::string name = path.string();
    const std::string context = "open " + name;
    // A missing folder is the user's typo more often than their wish: the file is created, never
    // the folders above it.
    if (path.has_parent_path()) {
      std::error_code error;
      if (!std::filesystem::is_directory(path.parent_path(), error))
        throw Error(SQLITE_CANTOPEN, context,
                    "there is no folder " + path.parent_path().string() + " (create it first, or give another --db)",
                    util::ErrorCode::not_found);
    }
    try {
      SqliteStore store{Database(name)};
      store.database_.set_busy_timeout(kBusyTimeoutMs);
      use_write_ahead_log(store.database_);
      store.database_.exec("PRAGMA foreign_keys = ON");
      store.migrate();
      return store;
    } catch (const Error& error) {
      rethrow_open_error(error, context, path, true);
    }
  });
}

util::Result<SqliteStore> SqliteStore::open_readonly(const std::filesystem::path& path) {
  return guarded([&]() -> SqliteStore {
    const std::string name = path.string();
    const std::string context = "open " + name;
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error))
      throw Error(SQLITE_CANTOPEN, context, "no database there (run `cjcrawl check` or `cjcrawl import` to create one)",
                  util::ErrorCode::not_found);
    try {
      SqliteStore store{Database(name, SQLITE_OPEN_READONLY)};
      store.database_.set_busy_timeout(kBusyTimeoutMs);
      const int version = read_user_version(store.database_);
      check_supported(store.database_, version);
      if (version < kSchemaVersion)
        throw Error(SQLITE_ERROR, context,
                    "its schema version is " + std::to_string(version) + ", older than this cjcrawl's " +
                        std::to_string(kSchemaVersion) +
                        "; a reader never writes, so let a writing command (cjcrawl import or check) upgrade it first");
      return store;
    } catch (const Error& failure) {
      rethrow_open_error(failure, context, path, false);
    }
  });
}

SqliteStore SqliteStore::open_memory() {
  SqliteStore store{Database(":memory:")};
  store.database_.exec("PRAGMA foreign_keys = ON");
  store.migrate();
  return store;
}

void SqliteStore::migrate() {
  int version = read_user_version(database_);
  check_supported(database_, version);
  while (version < kSchemaVersion) {
    Transaction transaction(database_);
    // Read again under the write lock: another process may have migrated the file meanwhile.
    version = read_user_version(database_);
    check_supported(database_, version);
    if (version >= kSchemaVersion) break;
    database_.exec(kMigrations[static_cast<std::size_t>(version)].sql);
    // PRAGMA takes no bound parameters; the number comes from this table, never from input.
    database_.exec("PRAGMA user_version = " + std::to_string(version + 1));
    transaction.commit();
    ++version;
  }
}

util::Result<std::int64_t> SqliteStore::record_visit(const blacklist::Evidence& evidence,
                                                     const blacklist::Judgement& judgement, std::int64_t now_ms,
                                                     const CrawlSite* site) {
  return guarded([&]() -> std::int64_t {
    // Serialised before taking the write lock, to hold it briefly.
    const VisitRecord record = make_visit_record(evidence, judgement);

    Transaction transaction(database_);
    {
      Statement& insert = database_.cached(kInsertVisit);
      insert.bind_int64(1, evidence.started_at_ms)
          .bind_text(2, evidence.input)
          .bind_text(3, evidence.url)
          .bind_text(4, evidence.final_url)
          .bind_text(5, blacklist::to_string(evidence.status))
          .bind_text(6, evidence.status_reason)
          .bind_text(7, blacklist::to_string(judgement.verdict))
          .bind_int64(8, judgement.confidence)
          .bind_text(9, record.evidence_text)
          .bind_text(10, record.cpu_samples_text)
          .bind_int64(11, evidence.elapsed_ms);
      insert.run();
    }
    const std::int64_t visit_id = database_.last_insert_rowid();

    if (judgement.verdict == blacklist::Verdict::cryptojacking) {
      const std::string entry_evidence = record.entry_evidence(visit_id);
      Statement upsert = database_.prepare(kUpsertBlacklist);
      const auto add = [&](std::string_view kind, std::string_view value) {
        upsert.reset();
        upsert.bind_text(1, kind)
            .bind_text(2, value)
            .bind_int64(3, now_ms)
            .bind_int64(4, judgement.confidence)
            .bind_text(5, entry_evidence);
        upsert.run();
      };
      Statement listed = database_.prepare(kListByCrawl);
      Statement linked = database_.prepare(kLinkVisit);
      for (const auto& offender : record.offenders) {
        add(offender.kind, offender.value);
        listed.reset();
        listed.bind_text(1, offender.kind).bind_text(2, offender.value).bind_int64(3, now_ms);
        listed.run();
        linked.reset();
        linked.bind_text(1, offender.kind).bind_text(2, offender.value).bind_int64(3, visit_id);
        linked.run();
      }
    }

    // The crawl's progress commits with the visit: the database is the truth a resume reads.
    if (site) {
      Statement& progress = database_.cached(R"sql(
  INSERT INTO crawl_sites (crawl_id, position, seq, input, visit_id, status, verdict, attempt, line, done_ms)
  VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM crawl_sites WHERE crawl_id = ?1), ?3, ?4, ?5, ?6, ?7, ?8, ?9)
  )sql");
      progress.bind_int64(1, site->crawl_id)
          .bind_int64(2, site->position)
          .bind_text(3, evidence.input)
          .bind_int64(4, visit_id)
          .bind_text(5, blacklist::to_string(evidence.status))
          .bind_text(6, blacklist::to_string(judgement.verdict))
          .bind_int64(7, site->attempt)
          .bind_text(8, site->line)
          .bind_int64(9, now_ms);
      progress.run();
      apply_recheck(*site, visit_id, evidence.status, judgement.verdict, now_ms);
    }

    transaction.commit();
    return visit_id;
  });
}

util::Status SqliteStore::record_skipped(std::int64_t crawl_id, const std::vector<SkippedLine>& lines,
                                         std::int64_t now_ms) {
  return guarded([&]() -> void {
    if (lines.empty()) return;
    Transaction transaction(database_);
    Statement record = database_.prepare(R"sql(
  INSERT INTO crawl_sites (crawl_id, position, seq, input, visit_id, status, verdict, attempt, line, done_ms)
  VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM crawl_sites WHERE crawl_id = ?1), ?3, NULL, 'skipped', ?4, 0, ?5, ?6)
  )sql");
    for (const auto& skipped : lines) {
      record.reset();
      record.bind_int64(1, crawl_id)
          .bind_int64(2, skipped.position)
          .bind_text(3, skipped.input)
          .bind_text(4, skipped.verdict)
          .bind_text(5, skipped.line)
          .bind_int64(6, now_ms);
      record.run();
    }
    transaction.commit();
  });
}

std::int64_t SqliteStore::insert_crawl(const CrawlRow& crawl) {
  Statement insert = database_.prepare(
      "INSERT INTO crawls (started_ms, input_path, input_digest, selection, total, state, options_json) "
      "VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)");
  insert.bind_int64(1, crawl.started_ms)
      .bind_text(2, crawl.input_path)
      .bind_text(3, crawl.input_digest)
      .bind_text(4, crawl.selection)
      .bind_int64(5, crawl.total)
      .bind_text(6, crawl.options_json);
  insert.run();
  return database_.last_insert_rowid();
}

util::Result<std::int64_t> SqliteStore::begin_crawl(const CrawlRow& crawl) {
  return guarded([&]() -> std::int64_t {
    Transaction transaction(database_);
    const auto id = insert_crawl(crawl);
    transaction.commit();
    return id;
  });
}

util::Status SqliteStore::set_crawl_state(std::int64_t crawl_id, std::string_view state, std::int64_t now_ms) {
  return guarded([&]() -> void {
    Statement update = database_.prepare("UPDATE crawls SET state = ?2, finished_ms = ?3 WHERE id = ?1");
    update.bind_int64(1, crawl_id).bind_text(2, state).bind_int64(3, now_ms);
    update.run();
  });
}

namespace {

constexpr std::string_view kSelectCrawl = R"sql(
SELECT c.id, c.started_ms, coalesce(c.finished_ms, 0), c.input_path, c.input_digest, c.selection, c.total, c.state,
       coalesce(c.options_json, ''), (SELECT count(*) FROM crawl_sites s WHERE s.crawl_id = c.id),
       coalesce(c.name, '')
FROM crawls c
)sql";

Store::CrawlRow read_crawl(const Statement& select) {
  Store::CrawlRow row;
  row.id = select.column_int64(0);
  row.started_ms = select.column_int64(1);
  row.finished_ms = select.column_int64(2);
  row.input_path = select.column_text(3);
  row.input_digest = select.column_text(4);
  row.selection = select.column_text(5);
  row.total = select.column_int64(6);
  row.state = select.column_text(7);
  row.options_json = select.column_text(8);
  row.done = select.column_int64(9);
  row.name = select.column_text(10);
  return row;
}

}  // namespace

util::Result<std::optional<Store::CrawlRow>> SqliteStore::crawl(std::int64_t id) const {
  return guarded([&]() -> std::optional<Store::CrawlRow> {
    Statement select = database_.prepare(std::string(kSelectCrawl) + " WHERE c.id = ?1");
    select.bind_int64(1, id);
    if (!select.step()) return std::nullopt;
    return read_crawl(select);
  });
}

util::Result<std::optional<Store::CrawlRow>> SqliteStore::find_crawl(std::string_view input_path,
                                                                     std::string_view input_digest,
                                                                     std::string_view selection) const {
  return guarded([&]() -> std::optional<Store::CrawlRow> {
    Statement select = database_.prepare(std::string(kSelectCrawl) +
                                         " WHERE c.input_path = ?1 AND c.input_digest = ?2 AND c.selection = ?3 "
                                         "ORDER BY c.id DESC LIMIT 1");
    select.bind_text(1, input_path).bind_text(2, input_digest).bind_text(3, selection);
    if (!select.step()) return std::nullopt;
    return read_crawl(select);
  });
}

util::Result<std::vector<Store::CrawlRow>> SqliteStore::crawls() const {
  return guarded([&]() -> std::vector<Store::CrawlRow> {
    Statement select = database_.prepare(std::string(kSelectCrawl) + " ORDER BY c.id");
    std::vector<CrawlRow> rows;
    while (select.step()) rows.push_back(read_crawl(select));
    return rows;
  });
}

util::Result<std::vector<std::int64_t>> SqliteStore::crawl_positions(std::int64_t crawl_id) const {
  return guarded([&]() -> std::vector<std::int64_t> {
    Statement select = database_.prepare("SELECT position FROM crawl_sites WHERE crawl_id = ?1 ORDER BY seq");
    select.bind_int64(1, crawl_id);
    std::vector<std::int64_t> positions;
    while (select.step()) positions.push_back(select.column_int64(0));
    return positions;
  });
}

util::Result<std::optional<std::string>> SqliteStore::crawl_line(std::int64_t crawl_id, std::int64_t position) const {
  return guarded([&]() -> std::optional<std::string> {
    Statement select = database_.prepare("SELECT line FROM crawl_sites WHERE crawl_id = ?1 AND position = ?2");
    select.bind_int64(1, crawl_id).bind_int64(2, position);
    if (!select.step()) return std::nullopt;
    return select.column_text(0);
  });
}

util::Result<std::vector<Store::CrawlLine>> SqliteStore::crawl_lines(std::int64_t crawl_id) const {
  return guarded([&]() -> std::vector<Store::CrawlLine> {
    Statement select =
        database_.prepare("SELECT position, status, verdict, line FROM crawl_sites WHERE crawl_id = ?1 ORDER BY seq");
    select.bind_int64(1, crawl_id);
    std::vector<CrawlLine> lines;
    while (select.step())
      lines.push_back(
          CrawlLine{select.column_int64(0), select.column_text(1), select.column_text(2), select.column_text(3)});
    return lines;
  });
}

util::Result<std::vector<Store::CrawlLine>> SqliteStore::crawl_lines_after(std::int64_t crawl_id, std::int64_t after,
                                                                           int limit) const {
  return guarded([&]() -> std::vector<Store::CrawlLine> {
    Statement select = database_.prepare(
        "SELECT position, status, verdict, line FROM crawl_sites WHERE crawl_id = ?1 AND position > ?2 "
        "ORDER BY position LIMIT ?3");
    select.bind_int64(1, crawl_id).bind_int64(2, after).bind_int64(3, std::clamp(limit, 1, 10'000));
    std::vector<CrawlLine> lines;
    while (select.step())
      lines.push_back(
          CrawlLine{select.column_int64(0), select.column_text(1), select.column_text(2), select.column_text(3)});
    return lines;
  });
}

util::Result<std::optional<Store::SourceRow>> SqliteStore::source(std::string_view name) const {
  return guarded([&]() -> std::optional<Store::SourceRow> {
    for (auto& row : sources_now())
      if (row.name == name) return std::move(row);
    return std::nullopt;
  });
}

std::vector<Store::SourceRow> SqliteStore::sources_now() const {
  std::vector<SourceRow> rows;
  Statement select = database_.prepare(
      "SELECT id, name, coalesce(format, ''), coalesce(etag, ''), coalesce(last_modified, ''), "
      "coalesce(last_fetch_ms, 0), coalesce(last_change_ms, 0), entry_count, coalesce(last_error, '') "
      "FROM sources ORDER BY name");
  while (select.step())
    rows.push_back({select.column_int64(0), select.column_text(1), select.column_text(2), select.column_text(3),
                    select.column_text(4), select.column_int64(5), select.column_int64(6), select.column_int64(7),
                    select.column_text(8)});
  return rows;
}

util::Result<std::vector<Store::SourceRow>> SqliteStore::sources() const {
  return guarded([&] { return sources_now(); });
}

util::Result<Store::ImportChange> SqliteStore::replace_source_entries(std::string_view name, std::string_view format,
                                                                      const std::vector<ListedEntry>& entries,
                                                                      std::string_view etag,
                                                                      std::string_view last_modified, int confidence,
                                                                      std::int64_t now_ms) {
  return guarded([&]() -> Store::ImportChange {
    if (name == "crawl")
      throw Error(SQLITE_MISUSE, "import", "'crawl' is cjcrawl's own source; name the feed",
                  util::ErrorCode::invalid_argument);
    ImportChange change;
    Transaction transaction(database_);
    // Whether anything a feed shows changed: the triggers bump the generation on every such change
    // (new entries, new or dropped listings, relistings), including a listing that brings back an
    // entry no other source listed any more, which the counts below do not see.
    const std::int64_t generation_before = current_generation();
    // Step 1: the source row, created on first import.
    Statement upsert_source = database_.prepare(
        "INSERT INTO sources (name, format) VALUES (?1, ?2) "
        "ON CONFLICT (name) DO UPDATE SET format = excluded.format RETURNING id");
    upsert_source.bind_text(1, name).bind_text(2, format);
    if (!upsert_source.step()) throw Error(SQLITE_ERROR, "import", "source row not created");
    const std::int64_t source_id = upsert_source.column_int64(0);
    upsert_source.reset();

    // Step 2: the list, as a temporary table (deduplicated by its key).
    database_.exec(
        "CREATE TEMP TABLE IF NOT EXISTS import_batch (kind TEXT, value TEXT, PRIMARY KEY (kind, value)) "
        "WITHOUT ROWID");
    database_.exec("DELETE FROM temp.import_batch");
    Statement stage = database_.prepare("INSERT OR IGNORE INTO temp.import_batch (kind, value) VALUES (?1, ?2)");
    for (const auto& entry : entries) {
      if (entry.value.empty()) continue;
      stage.reset();
      stage.bind_text(1, entry.kind).bind_text(2, entry.value);
      stage.run();
      change.listed += static_cast<std::size_t>(database_.changes());
    }

    // Step 3: entries new to the blacklist (hits 0: hits count crawl sightings, not listings).
    Statement add = database_.prepare(
        "INSERT INTO blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json) "
        "SELECT kind, value, ?1, ?1, 0, ?2, json_object('source', ?3) FROM temp.import_batch WHERE true "
        "ON CONFLICT (kind, value) DO NOTHING");
    add.bind_int64(1, now_ms).bind_int64(2, confidence).bind_text(3, name);
    add.run();
    change.added = static_cast<std::size_t>(database_.changes());

    // Step 4: listed again after this source had dropped them.
    Statement relist = database_.prepare(
        "UPDATE entry_sources SET removed_ms = NULL, last_listed_ms = ?2 "
        "WHERE source_id = ?1 AND removed_ms IS NOT NULL AND entry_id IN "
        "(SELECT b.id FROM blacklist b JOIN temp.import_batch i ON b.kind = i.kind AND b.value = i.value)");
    relist.bind_int64(1, source_id).bind_int64(2, now_ms);
    relist.run();
    change.relisted = static_cast<std::size_t>(database_.changes());

    // Step 5: who lists what; a listing seen again only moves last_listed_ms (no generation bump).
    Statement list = database_.prepare(
        "INSERT INTO entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms) "
        "SELECT b.id, ?1, ?2, ?2 FROM blacklist b JOIN temp.import_batch i ON b.kind = i.kind AND b.value = i.value "
        "WHERE true ON CONFLICT (entry_id, source_id) DO UPDATE SET last_listed_ms = excluded.last_listed_ms");
    list.bind_int64(1, source_id).bind_int64(2, now_ms);
    list.run();

    // Step 6: what the source no longer lists is marked removed for it, not deleted.
    Statement remove = database_.prepare(
        "UPDATE entry_sources SET removed_ms = ?2 WHERE source_id = ?1 AND removed_ms IS NULL AND entry_id NOT IN "
        "(SELECT b.id FROM blacklist b JOIN temp.import_batch i ON b.kind = i.kind AND b.value = i.value)");
    remove.bind_int64(1, source_id).bind_int64(2, now_ms);
    remove.run();
    change.removed = static_cast<std::size_t>(database_.changes());

    // Step 7: the source row records the fetch.
    const bool changed = current_generation() != generation_before;
    Statement note = database_.prepare(
        "UPDATE sources SET etag = ?2, last_modified = ?3, last_fetch_ms = ?4, entry_count = ?5, last_error = NULL, "
        "last_change_ms = CASE WHEN ?6 THEN ?4 ELSE coalesce(last_change_ms, ?4) END WHERE id = ?1");
    note.bind_int64(1, source_id)
        .bind_text(2, etag)
        .bind_text(3, last_modified)
        .bind_int64(4, now_ms)
        .bind_int64(5, static_cast<std::int64_t>(change.listed))
        .bind_int64(6, changed ? 1 : 0);
    note.run();
    database_.exec("DELETE FROM temp.import_batch");
    transaction.commit();
    return change;
  });
}

util::Status SqliteStore::note_source_fetch(std::string_view name, std::string_view error, std::int64_t now_ms) {
  return guarded([&]() -> void {
    Statement note = database_.prepare(
        "INSERT INTO sources (name, last_fetch_ms, last_error) VALUES (?1, ?2, nullif(?3, '')) "
        "ON CONFLICT (name) DO UPDATE SET last_fetch_ms = excluded.last_fetch_ms, last_error = excluded.last_error");
    note.bind_text(1, name).bind_int64(2, now_ms).bind_text(3, error);
    note.run();
  });
}

std::int64_t SqliteStore::current_generation() const {
  Statement select = database_.prepare("SELECT value FROM meta WHERE key = 'generation'");
  return select.step() ? select.column_int64(0) : 0;
}

util::Result<std::int64_t> SqliteStore::generation() const {
  return guarded([&] { return current_generation(); });
}

std::vector<ExportEntry> SqliteStore::export_entries_now(const ExportFilter& filter) const {
  // Allow entries pass every filter: a reviewed exception wins over every source, so it must reach
  // every feed that could carry what it covers.
  // Kinds travel as one bound parameter: "\nkind\nkind\n", tested with instr().
  std::string kinds;
  for (const auto& kind : filter.kinds) kinds += "\n" + kind;
  if (!kinds.empty()) kinds += "\n";
  Statement select = database_.prepare(R"sql(
SELECT b.kind, b.value, coalesce(b.first_seen_ms, 0), coalesce(b.last_seen_ms, 0), b.hits,
       coalesce(b.confidence, 0), coalesce(b.evidence_json, ''), group_concat(s.name, char(10))
FROM blacklist b
JOIN entry_sources e ON e.entry_id = b.id AND e.removed_ms IS NULL
JOIN sources s ON s.id = e.source_id
WHERE b.kind = 'allow' OR ((?1 = '' OR instr(?1, char(10) || b.kind || char(10)) > 0)
  AND coalesce(b.last_seen_ms, 0) >= ?2 AND coalesce(b.confidence, 0) >= ?3)
GROUP BY b.id
HAVING b.kind = 'allow' OR ?4 = 'all' OR (?4 = 'crawl' AND max(s.name = 'crawl'))
    OR (?4 = 'import' AND max(s.name != 'crawl'))
ORDER BY b.kind, b.value
)sql");
  select.bind_text(1, kinds)
      .bind_int64(2, filter.seen_since_ms)
      .bind_int64(3, filter.min_confidence)
      .bind_text(4, filter.source);
  std::vector<ExportEntry> entries;
  while (select.step()) entries.push_back(read_export_entry(select, 0));
  return entries;
}

util::Result<std::vector<ExportEntry>> SqliteStore::export_entries(const ExportFilter& filter) const {
  return guarded([&] { return export_entries_now(filter); });
}

util::Result<Store::FeedSnapshot> SqliteStore::feed_snapshot(const ExportFilter& filter) {
  return guarded([&]() -> Store::FeedSnapshot {
    FeedSnapshot snapshot;
    ReadTransaction read(database_);
    snapshot.generation = current_generation();
    // When the blacklist last changed, from the data itself: an upsert moves last_seen_ms, a removal
    // sets removed_ms, an import that changed something moves its source's last_change_ms.
    Statement changed = database_.prepare(R"sql(
  SELECT max(coalesce((SELECT max(last_seen_ms) FROM blacklist), 0),
             coalesce((SELECT max(removed_ms) FROM entry_sources), 0),
             coalesce((SELECT max(last_change_ms) FROM sources), 0))
  )sql");
    changed.step();  // an aggregate always yields one row
    snapshot.changed_ms = changed.column_int64(0);
    changed.reset();
    snapshot.entries = export_entries_now(filter);
    read.end();
    return snapshot;
  });
}

util::Result<Store::EntryPage> SqliteStore::entries_page(std::string_view kind, std::string_view contains,
                                                         std::int64_t after_id, int limit) {
  return guarded([&]() -> Store::EntryPage {
    limit = std::clamp(limit, 1, 1000);
    EntryPage page;
    ReadTransaction read(database_);
    page.generation = current_generation();
    // Byte semantics for the substring (values need not be UTF-8): instr on BLOBs.
    Statement select = database_.prepare(R"sql(
  SELECT b.id, b.kind, b.value, coalesce(b.first_seen_ms, 0), coalesce(b.last_seen_ms, 0), b.hits,
         coalesce(b.confidence, 0), coalesce(b.evidence_json, ''), group_concat(s.name, char(10))
  FROM blacklist b
  JOIN entry_sources e ON e.entry_id = b.id AND e.removed_ms IS NULL
  JOIN sources s ON s.id = e.source_id
  WHERE b.id > ?1 AND (?2 = '' OR b.kind = ?2)
    AND (length(CAST(?3 AS BLOB)) = 0 OR instr(CAST(b.value AS BLOB), CAST(?3 AS BLOB)) > 0)
  GROUP BY b.id
  ORDER BY b.id
  LIMIT ?4
  )sql");
    select.bind_int64(1, after_id).bind_text(2, kind).bind_blob(3, contains).bind_int64(4, limit + 1);
    while (select.step()) {
      if (page.entries.size() == static_cast<std::size_t>(limit)) {
        page.more = true;
        break;
      }
      PagedEntry paged;
      paged.id = select.column_int64(0);
      paged.entry = read_export_entry(select, 1);
      std::sort(paged.entry.sources.begin(), paged.entry.sources.end());
      page.entries.push_back(std::move(paged));
    }
    select.reset();
    read.end();
    return page;
  });
}

util::Result<std::vector<VisitRow>> SqliteStore::latest_visits(const std::vector<std::string>& verdicts,
                                                               int limit) const {
  return guarded([&]() -> std::vector<VisitRow> {
    std::string wanted;
    for (const auto& verdict : verdicts) wanted += "\n" + verdict;
    if (!wanted.empty()) wanted += "\n";
    Statement select = database_.prepare(std::string(kVisitColumns) +
                                         " WHERE ?1 = '' OR instr(?1, char(10) || verdict || char(10)) > 0 "
                                         "ORDER BY id DESC LIMIT ?2");
    select.bind_text(1, wanted).bind_int64(2, std::clamp(limit, 1, 1000));
    std::vector<VisitRow> rows;
    while (select.step()) rows.push_back(read_visit_row(select));
    return rows;
  });
}

util::Result<Store::Summary> SqliteStore::summary() {
  return guarded([&]() -> Store::Summary {
    Summary summary;
    ReadTransaction read(database_);
    summary.generation = current_generation();
    Statement counts = database_.prepare("SELECT count(*), coalesce(sum(verdict = 'cryptojacking'), 0) FROM visits");
    counts.step();  // an aggregate always yields one row
    summary.visits = counts.column_int64(0);
    summary.detections = counts.column_int64(1);
    Statement kinds = database_.prepare(R"sql(
  SELECT kind, count(*) FROM blacklist b
  WHERE EXISTS (SELECT 1 FROM entry_sources e WHERE e.entry_id = b.id AND e.removed_ms IS NULL)
  GROUP BY kind ORDER BY kind
  )sql");
    while (kinds.step()) summary.active_by_kind.emplace_back(kinds.column_text(0), kinds.column_int64(1));
    counts.reset();
    read.end();
    return summary;
  });
}

util::Result<blacklist::KnownEntries> SqliteStore::known_entries() const {
  return guarded([&]() -> blacklist::KnownEntries {
    blacklist::KnownEntries known;
    Statement select = database_.prepare(kSelectActive);
    while (select.step()) known.add(select.column_text(0), select.column_text(1));
    return known;
  });
}

util::Result<std::vector<BlacklistEntry>> SqliteStore::blacklist_entries() const {
  return guarded([&]() -> std::vector<BlacklistEntry> {
    std::vector<BlacklistEntry> entries;
    Statement select = database_.prepare(kSelectBlacklist);
    while (select.step()) {
      entries.push_back(BlacklistEntry{
          .kind = select.column_text(0),
          .value = select.column_text(1),
          .first_seen_ms = select.column_int64(2),
          .last_seen_ms = select.column_int64(3),
          .hits = select.column_int64(4),
          .confidence = static_cast<int>(select.column_int64(5)),
          .evidence_json = select.column_text(6),
      });
    }
    return entries;
  });
}

util::Result<std::optional<VisitRow>> SqliteStore::visit(std::int64_t id) const {
  return guarded([&]() -> std::optional<VisitRow> {
    Statement select = database_.prepare(std::string(kVisitColumns) + " WHERE id = ?1");
    select.bind_int64(1, id);
    if (!select.step()) return std::nullopt;
    return read_visit_row(select);
  });
}

util::Result<std::int64_t> SqliteStore::visit_count() const {
  return guarded([&]() -> std::int64_t {
    Statement count = database_.prepare("SELECT count(*) FROM visits");
    count.step();  // an aggregate always yields one row
    return count.column_int64(0);
  });
}

util::Result<int> SqliteStore::schema_version() const {
  return guarded([&] { return read_user_version(database_); });
}

std::string shown_location(const std::string& location) {
  return pg::is_postgres_location(location) ? pg::display_location(location) : location;
}

util::Result<std::unique_ptr<Store>> open_store(const std::string& location, OpenMode mode) {
  if (pg::is_postgres_location(location)) {
    auto opened = PgStore::open(location, mode);
    if (!opened) return opened.error();
    return std::unique_ptr<Store>(std::move(opened).value());
  }
  if ((mode == OpenMode::existing || mode == OpenMode::inspect) && location != ":memory:") {
    std::error_code error;
    if (!std::filesystem::is_regular_file(location, error))
      return util::make_error(util::ErrorCode::not_found, "open " + location,
                              "no database there (run `cjcrawl check`, `crawl` or `import` to create one)");
  }
  auto opened = mode == OpenMode::read ? SqliteStore::open_readonly(location) : SqliteStore::open(location);
  if (!opened && mode == OpenMode::inspect && opened.error().code == util::ErrorCode::permission) {
    // Reading needs less: the file, and -wal/-shm files that exist or can be created beside it. When
    // that fails too, its reason is the one that matters to a reader.
    opened = SqliteStore::open_readonly(location);
  }
  if (!opened) return opened.error();
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(opened).value()));
}

}  // namespace db
