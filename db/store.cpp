// db/store.cpp — schema migrations, visit recording and blacklist upserts.
#include "db/store.hpp"

#include "blacklist/known.hpp"

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
};
static_assert(kMigrations.size() == Store::kSchemaVersion,
              "Store::kSchemaVersion must equal the number of migrations");

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
  evidence_json = excluded.evidence_json
)sql";

constexpr std::string_view kSelectVisit = R"sql(
SELECT id, started_at_ms, input, url, final_url, status, status_reason, verdict, confidence,
       evidence_json, cpu_samples_json, elapsed_ms
FROM visits WHERE id = ?1
)sql";

constexpr std::string_view kSelectBlacklist = R"sql(
SELECT kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json
FROM blacklist ORDER BY kind, value
)sql";

constexpr std::string_view kWebSocketEndpointKind = "ws_endpoint";

// Page strings (titles, frame payloads, URLs) need not be UTF-8, and nlohmann's default dump throws
// on invalid UTF-8; the JSON columns replace such bytes with U+FFFD instead.
std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The raw samples, not the per-interval percentages of evidence_json, so that a stored visit can be
// judged again by a changed CPU rule.
nlohmann::json cpu_samples_json(const std::vector<blacklist::CpuSample>& samples) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& sample : samples) out.push_back({{"t_seconds", sample.t_seconds}, {"cpu_seconds", sample.cpu_seconds}});
  return out;
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
                    ": it was written by a newer cjcrawl; upgrade cjcrawl or use another --db");
  if (version < 0)
    throw Error(SQLITE_ERROR, "open " + database.filename(),
                "its schema version is " + std::to_string(version) +
                    ", which no cjcrawl writes; it is not a cjcrawl database, use another --db");
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
                "cannot switch to WAL journal mode (it stays '" + mode +
                    "'); put the database on a local filesystem");
}

}  // namespace


Store::Store(Database database) : database_(std::move(database)) {}

Store Store::open(const std::filesystem::path& path) {
  const std::string name = path.string();
  const std::string context = "open " + name;
  if (path.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error)
      throw Error(SQLITE_CANTOPEN, context,
                  "cannot create directory " + path.parent_path().string() + ": " + error.message());
  }
  Store store{Database(name)};  // its errors already name the file
  try {
    store.database_.set_busy_timeout(kBusyTimeoutMs);
    use_write_ahead_log(store.database_);
    store.database_.exec("PRAGMA foreign_keys = ON");
    store.migrate();
  } catch (const Error& error) {
    if (error.context() == context) throw;
    // e.g. "open /x/visits.db: PRAGMA journal_mode = WAL: file is not a database"
    throw Error(error.code(), context, error.what());
  }
  return store;
}

Store Store::open_memory() {
  Store store{Database(":memory:")};
  store.database_.exec("PRAGMA foreign_keys = ON");
  store.migrate();
  return store;
}

void Store::migrate() {
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

std::int64_t Store::record_visit(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                                 std::int64_t now_ms) {
  // Serialise before taking the write lock, to hold it briefly.
  const nlohmann::json evidence_json = blacklist::to_json(evidence, judgement);
  const std::string evidence_text = dump_json(evidence_json);
  const std::string cpu_samples_text = dump_json(cpu_samples_json(evidence.cpu_samples));

  // The offenders the judgement names, each once; socket endpoints keyed without query and fragment.
  std::vector<blacklist::Offender> offenders;
  for (const auto& offender : judgement.offenders) {
    blacklist::Offender entry{offender.kind,
                              offender.kind == kWebSocketEndpointKind ? blacklist::endpoint_key(offender.value)
                                                                      : offender.value};
    if (!entry.value.empty() && std::find(offenders.begin(), offenders.end(), entry) == offenders.end())
      offenders.push_back(std::move(entry));
  }

  Transaction transaction(database_);
  {
    Statement insert = database_.prepare(kInsertVisit);
    insert.bind_int64(1, evidence.started_at_ms)
        .bind_text(2, evidence.input)
        .bind_text(3, evidence.url)
        .bind_text(4, evidence.final_url)
        .bind_text(5, blacklist::to_string(evidence.status))
        .bind_text(6, evidence.status_reason)
        .bind_text(7, blacklist::to_string(judgement.verdict))
        .bind_int64(8, judgement.confidence)
        .bind_text(9, evidence_text)
        .bind_text(10, cpu_samples_text)
        .bind_int64(11, evidence.elapsed_ms);
    insert.run();
  }
  const std::int64_t visit_id = database_.last_insert_rowid();

  if (judgement.verdict == blacklist::Verdict::cryptojacking) {
    const std::string entry_evidence =
        dump_json({{"visit_id", visit_id}, {"reasons", evidence_json.at("reasons")}});
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
    for (const auto& offender : offenders) add(offender.kind, offender.value);
  }

  transaction.commit();
  return visit_id;
}

blacklist::KnownEntries Store::known_entries() const {
  blacklist::KnownEntries known;
  Statement select = database_.prepare("SELECT kind, value FROM blacklist");
  while (select.step()) {
    const std::string kind = select.column_text(0);
    std::string value = select.column_text(1);
    if (kind == "page") known.pages.insert(std::move(value));
    else if (kind == "script_url") known.script_urls.insert(std::move(value));
    else if (kind == "ws_endpoint") known.ws_endpoints.insert(std::move(value));
    else if (kind == "domain") known.domains.insert(std::move(value));
    else if (kind == "ip") known.ips.insert(std::move(value));
    else if (kind == "wasm_sha256") known.wasm_sha256.insert(std::move(value));
    else if (kind == "allow") known.allow.insert(std::move(value));
  }
  return known;
}

std::vector<BlacklistEntry> Store::blacklist_entries() const {
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
}

std::optional<VisitRow> Store::visit(std::int64_t id) const {
  Statement select = database_.prepare(kSelectVisit);
  select.bind_int64(1, id);
  if (!select.step()) return std::nullopt;
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

std::int64_t Store::visit_count() const {
  Statement count = database_.prepare("SELECT count(*) FROM visits");
  count.step();  // an aggregate always yields one row
  return count.column_int64(0);
}

int Store::schema_version() const { return read_user_version(database_); }

}  // namespace db
