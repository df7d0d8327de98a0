// tests/unit/test_store.cpp — the store, on SQLite and on PostgreSQL alike: what a crawl's user finds
// in the database after recording visits (rows, blacklist entries, hit counts), that hostile page data
// comes back byte for byte, that stores survive reopening, and that unknown, newer or broken stores are
// refused with a clear message.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "blacklist/evidence.hpp"
#include "db/pg.hpp"
#include "db/sqlite.hpp"
#include "db/sqlite_store.hpp"
#include "tests/support/pg_cluster.hpp"
#include "tests/support/stores.hpp"

namespace {

using Catch::Matchers::Contains;

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    do {
      path_ = std::filesystem::temp_directory_path() /
              ("cjcrawl-test-store-" + std::to_string(random()) + "-" + std::to_string(random()));
    } while (!std::filesystem::create_directory(path_));
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

blacklist::WebSocketRecord socket_to(std::string url) {
  blacklist::WebSocketRecord socket;
  socket.url = std::move(url);
  return socket;
}

blacklist::Evidence clean_evidence(std::string url) {
  blacklist::Evidence evidence;
  evidence.input = url;
  evidence.url = url;
  evidence.final_url = url + "home";
  evidence.status = blacklist::Status::ok;
  evidence.http_status = 200;
  evidence.cpu_samples = {{0.0, 0.0, 0.0}, {1.0, 0.05, 0.0}, {2.0, 0.1, 0.02}};  // the last interval waited 20 ms
  evidence.sample_period_seconds = 1.0;
  evidence.started_at_ms = 1'700'000'000'000;
  evidence.elapsed_ms = 2'500;
  return evidence;
}

// A page that opened three sockets to two pools; the per-user keys sit in the query and fragment.
blacklist::Evidence mining_evidence(std::string url) {
  blacklist::Evidence evidence = clean_evidence(std::move(url));
  evidence.cpu_samples = {{0.0, 0.0}, {1.0, 0.95}, {2.0, 1.9}};
  evidence.websockets = {
      socket_to("wss://pool.example:8443/ws?key=SECRET1#worker"),
      socket_to("wss://pool.example:8443/ws?key=SECRET2"),
      socket_to("wss://other-pool.example/proxy#SECRET3"),
  };
  return evidence;
}

// A judgement as the detector would give it; a cryptojacking one names the page and every socket of
// `evidence` as offenders (the detector passes socket URLs whole; the store keys them).
blacklist::Judgement judgement(blacklist::Verdict verdict, int confidence,
                               const blacklist::Evidence* evidence = nullptr) {
  blacklist::Judgement out;
  out.verdict = verdict;
  out.confidence = confidence;
  if (verdict != blacklist::Verdict::clean)
    out.reasons = {{"cpu", "95% of a core for 2 s", "strong"}, {"ws_pool", "stratum login frame", "conclusive"}};
  if (verdict == blacklist::Verdict::cryptojacking && evidence) {
    out.offenders.push_back({"page", evidence->final_url.empty() ? evidence->url : evidence->final_url});
    for (const auto& socket : evidence->websockets) out.offenders.push_back({"ws_endpoint", socket.url});
  }
  return out;
}

const blacklist::Judgement kClean = judgement(blacklist::Verdict::clean, 0);

blacklist::Judgement mining_judgement(const std::string& url) {
  const auto evidence = mining_evidence(url);
  return judgement(blacklist::Verdict::cryptojacking, 90, &evidence);
}

std::int64_t count_rows(const db::Database& database, std::string_view sql) {
  db::Statement statement = database.prepare(sql);
  REQUIRE(statement.step());
  return statement.column_int64(0);
}

}  // namespace

TEST_CASE("a clean visit is stored with its evidence and blacklists nothing", "[db]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);
  db::Store& store = *fresh;
  const auto evidence = clean_evidence("https://clean.example/");

  const std::int64_t id = store.record_visit(evidence, kClean, 1'700'000'005'000).value();

  CHECK(store.visit_count().value() == 1);
  CHECK(store.blacklist_entries().value().empty());
  const auto row = store.visit(id).value();
  REQUIRE(row.has_value());
  CHECK(row->id == id);
  CHECK(row->input == "https://clean.example/");
  CHECK(row->url == "https://clean.example/");
  CHECK(row->final_url == "https://clean.example/home");
  CHECK(row->status == "ok");
  CHECK(row->verdict == "clean");
  CHECK(row->confidence == 0);
  CHECK(row->started_at_ms == 1'700'000'000'000);
  CHECK(row->elapsed_ms == 2'500);
  CHECK(nlohmann::json::parse(row->evidence_json) == blacklist::to_json(evidence, kClean));
  // The raw samples, so the CPU rule can be run again on stored visits.
  CHECK(nlohmann::json::parse(row->cpu_samples_json) ==
        nlohmann::json::parse(R"([{"t_seconds":0.0,"cpu_seconds":0.0,"wait_seconds":0.0},
                                  {"t_seconds":1.0,"cpu_seconds":0.05,"wait_seconds":0.0},
                                  {"t_seconds":2.0,"cpu_seconds":0.1,"wait_seconds":0.02}])"));
  // The report splits each interval's demand into its waiting part.
  const auto samples = nlohmann::json::parse(row->evidence_json)["cpu_samples"];
  REQUIRE(samples.size() == 2);
  CHECK(samples[0]["wait_percent"] == 0.0);
  CHECK(samples[1]["cpu_percent"] == 5.0);
  CHECK(samples[1]["wait_percent"] == 2.0);
  CHECK_FALSE(store.visit(id + 1).value().has_value());
}

TEST_CASE("a suspicious visit is stored but blacklists nothing", "[db]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);
  db::Store& store = *fresh;
  const std::int64_t id =
      store.record_visit(mining_evidence("https://maybe.example/"), judgement(blacklist::Verdict::suspicious, 60), 1000)
          .value();
  CHECK(store.visit(id).value()->verdict == "suspicious");
  CHECK(store.blacklist_entries().value().empty());
}

TEST_CASE("a cryptojacking visit blacklists the page and each pool endpoint without its query", "[db]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);
  db::Store& store = *fresh;
  const auto evidence = mining_evidence("https://miner.example/");
  const auto verdict = judgement(blacklist::Verdict::cryptojacking, 90, &evidence);

  const std::int64_t id = store.record_visit(evidence, verdict, 1000).value();

  const auto entries = store.blacklist_entries().value();
  REQUIRE(entries.size() == 3);  // two sockets to one pool are one endpoint
  CHECK(entries[0].kind == "page");
  CHECK(entries[0].value == "https://miner.example/home");  // the final URL, not the input
  CHECK(entries[1].kind == "ws_endpoint");
  CHECK(entries[1].value == "wss://other-pool.example/proxy");
  CHECK(entries[2].kind == "ws_endpoint");
  CHECK(entries[2].value == "wss://pool.example:8443/ws");
  for (const auto& entry : entries) {
    CAPTURE(entry.value);
    CHECK(entry.first_seen_ms == 1000);
    CHECK(entry.last_seen_ms == 1000);
    CHECK(entry.hits == 1);
    CHECK(entry.confidence == 90);
    CHECK_THAT(entry.evidence_json, !Contains("SECRET"));
    const auto reasons = nlohmann::json::parse(entry.evidence_json);
    CHECK(reasons.at("visit_id") == id);
    CHECK(reasons.at("reasons") == blacklist::to_json(mining_evidence("https://miner.example/"), verdict)["reasons"]);
  }
  CHECK(store.visit(id).value()->verdict == "cryptojacking");
}

TEST_CASE("the blacklisted page is the navigated URL when no final URL was seen", "[db]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);
  db::Store& store = *fresh;
  auto evidence = mining_evidence("https://miner.example/");
  evidence.final_url.clear();
  evidence.websockets.clear();

  store.record_visit(evidence, judgement(blacklist::Verdict::cryptojacking, 80, &evidence), 1000).value();

  const auto entries = store.blacklist_entries().value();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].kind == "page");
  CHECK(entries[0].value == "https://miner.example/");
}

TEST_CASE("visiting a mining site again adds hits instead of duplicating entries", "[db]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);
  db::Store& store = *fresh;
  const auto evidence = mining_evidence("https://miner.example/");

  store.record_visit(evidence, judgement(blacklist::Verdict::cryptojacking, 90, &evidence), 1000).value();
  const std::int64_t second =
      store.record_visit(evidence, judgement(blacklist::Verdict::cryptojacking, 70, &evidence), 5000).value();

  auto entries = store.blacklist_entries().value();
  REQUIRE(entries.size() == 3);
  for (const auto& entry : entries) {
    CAPTURE(entry.value);
    CHECK(entry.hits == 2);
    CHECK(entry.first_seen_ms == 1000);
    CHECK(entry.last_seen_ms == 5000);
    CHECK(entry.confidence == 90);  // the strongest judgement so far is kept
    CHECK(nlohmann::json::parse(entry.evidence_json).at("visit_id") == second);  // the latest evidence
  }

  // Another site on the same pool: the endpoint gains a hit, the new page gets its own entry.
  auto other = mining_evidence("https://second-site.example/");
  other.websockets.resize(1);
  store.record_visit(other, judgement(blacklist::Verdict::cryptojacking, 95, &other), 9000).value();

  entries = store.blacklist_entries().value();
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].value == "https://miner.example/home");
  CHECK(entries[0].hits == 2);
  CHECK(entries[1].value == "https://second-site.example/home");
  CHECK(entries[1].hits == 1);
  CHECK(entries[3].value == "wss://pool.example:8443/ws");
  CHECK(entries[3].hits == 3);
  CHECK(entries[3].first_seen_ms == 1000);
  CHECK(entries[3].last_seen_ms == 9000);
  CHECK(entries[3].confidence == 95);
  CHECK(store.visit_count().value() == 3);
}

TEST_CASE("hostile page data round-trips byte-identical through a database file", "[db]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);

  const std::string injection = "'); DROP TABLE visits;--";
  const std::string quotes = R"(it's "quoted" `back` \slash)";
  const std::string nul_inside("before\0after", 12);
  const std::string invalid_utf8 = "\xff\xfe\xc3(\x80 lone continuation";
  const std::string huge_url = "https://huge.example/" + std::string(100 * 1024, 'x');

  auto evidence = mining_evidence("unused");
  evidence.input = injection;
  evidence.url = huge_url;
  evidence.final_url = "https://hostile.example/" + quotes + nul_inside + invalid_utf8;
  evidence.status = blacklist::Status::http_error;
  evidence.status_reason = invalid_utf8 + nul_inside + injection;
  evidence.websockets = {socket_to("wss://pool.example/" + injection + nul_inside + invalid_utf8 + "?key=SECRET")};
  const auto verdict = judgement(blacklist::Verdict::cryptojacking, 99, &evidence);

  std::int64_t id = 0;
  id = fresh->record_visit(evidence, verdict, 1000).value();
  fresh.close();

  auto reopened_store = fresh.open_again();
  db::Store& reopened = *reopened_store;
  CHECK(reopened.visit_count().value() == 1);  // the table is still there
  const auto row = reopened.visit(id).value();
  REQUIRE(row.has_value());
  CHECK(row->input == evidence.input);
  CHECK(row->url == huge_url);
  CHECK(row->url.size() == huge_url.size());
  CHECK(row->final_url == evidence.final_url);
  CHECK(row->status == "http_error");
  CHECK(row->status_reason == evidence.status_reason);

  // The JSON column is valid UTF-8 (invalid bytes replaced); valid strings in it are verbatim.
  nlohmann::json stored;
  REQUIRE_NOTHROW(stored = nlohmann::json::parse(row->evidence_json));
  CHECK(stored.at("input") == injection);
  CHECK(stored.at("url") == huge_url);

  const auto entries = reopened.blacklist_entries().value();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].kind == "page");
  CHECK(entries[0].value == evidence.final_url);
  CHECK(entries[1].kind == "ws_endpoint");
  CHECK(entries[1].value == "wss://pool.example/" + injection + nul_inside + invalid_utf8);
}

TEST_CASE("reopening a database file keeps its data and schema version", "[db]") {
  TempDir directory;
  const auto path = directory.path() / "cjcrawl.db";
  {
    db::SqliteStore store = db::SqliteStore::open(path).value();
    CHECK(store.schema_version().value() == db::Store::kSchemaVersion);
    store.record_visit(clean_evidence("https://clean.example/"), kClean, 1000).value();
    store.record_visit(mining_evidence("https://miner.example/"), mining_judgement("https://miner.example/"), 2000)
        .value();
    // A second process (here: connection) opening the same file concurrently finds it migrated.
    db::SqliteStore concurrent = db::SqliteStore::open(path).value();
    CHECK(concurrent.visit_count().value() == 2);
  }

  db::SqliteStore store = db::SqliteStore::open(path).value();
  CHECK(store.schema_version().value() == db::Store::kSchemaVersion);
  CHECK(store.visit_count().value() == 2);
  CHECK(store.blacklist_entries().value().size() == 3);
  CHECK(store.visit(1).value()->url == "https://clean.example/");

  db::Database raw(path.string());
  CHECK(count_rows(raw, "PRAGMA user_version") == db::Store::kSchemaVersion);
}

TEST_CASE("a database written by a newer cjcrawl is refused and left untouched", "[db]") {
  TempDir directory;
  const auto path = directory.path() / "future.db";
  {
    db::SqliteStore store = db::SqliteStore::open(path).value();
    store.record_visit(clean_evidence("https://clean.example/"), kClean, 1000).value();
  }
  db::Database(path.string()).exec("PRAGMA user_version = 99");

  const auto refused = db::SqliteStore::open(path);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == util::ErrorCode::schema_too_new);
  CHECK_THAT(refused.error().describe(),
             Contains(path.string()) && Contains("schema version is 99") &&
                 Contains("supports up to version " + std::to_string(db::Store::kSchemaVersion)) &&
                 Contains("written by a newer cjcrawl; upgrade cjcrawl or use another --db"));

  db::Database raw(path.string());
  CHECK(count_rows(raw, "PRAGMA user_version") == 99);
  CHECK(count_rows(raw, "SELECT count(*) FROM visits") == 1);
}

TEST_CASE("a file that is not a SQLite database is refused, naming it", "[db]") {
  TempDir directory;
  const auto path = directory.path() / "notes.txt";
  std::ofstream(path) << std::string(4096, 'n');

  const auto refused = db::SqliteStore::open(path);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().native_code == SQLITE_NOTADB);
  CHECK(refused.error().code == util::ErrorCode::not_a_database);
  CHECK_THAT(refused.error().describe(), Contains(path.string()) && Contains("not a database"));
}

TEST_CASE("a database file uses the write-ahead log, so readers run beside the writer", "[db]") {
  TempDir directory;
  const auto path = directory.path() / "cjcrawl.db";
  db::SqliteStore store = db::SqliteStore::open(path).value();

  db::Database reader(path.string());
  {
    db::Statement mode = reader.prepare("PRAGMA journal_mode");
    REQUIRE(mode.step());
    CHECK(mode.column_text(0) == "wal");
  }

  // A reader inside a read transaction does not block the writer, and keeps its snapshot.
  reader.exec("BEGIN");
  CHECK(count_rows(reader, "SELECT count(*) FROM visits") == 0);
  store.record_visit(clean_evidence("https://clean.example/"), kClean, 1000).value();
  CHECK(count_rows(reader, "SELECT count(*) FROM visits") == 0);
  reader.exec("COMMIT");
  CHECK(count_rows(reader, "SELECT count(*) FROM visits") == 1);
}

TEST_CASE("a visit whose recording fails leaves no partial rows behind", "[db]") {
  TempDir directory;
  const auto path = directory.path() / "cjcrawl.db";
  db::SqliteStore store = db::SqliteStore::open(path).value();
  // Another connection makes blacklist inserts fail, after the visit row has been inserted.
  db::Database(path.string())
      .exec("CREATE TRIGGER refuse BEFORE INSERT ON blacklist BEGIN SELECT RAISE(ABORT, 'refused by test'); END");

  const auto recorded =
      store.record_visit(mining_evidence("https://miner.example/"), mining_judgement("https://miner.example/"), 1000);
  REQUIRE_FALSE(recorded.ok());
  CHECK(recorded.error().native_code == SQLITE_CONSTRAINT_TRIGGER);
  CHECK(recorded.error().code == util::ErrorCode::constraint);
  CHECK_THAT(recorded.error().describe(), Contains("refused by test") && Contains("INSERT INTO blacklist"));
  CHECK(store.visit_count().value() == 0);
  CHECK(store.blacklist_entries().value().empty());

  // The store is still usable: the failed transaction was closed.
  store.record_visit(clean_evidence("https://clean.example/"), kClean, 2000).value();
  CHECK(store.visit_count().value() == 1);
}

TEST_CASE("a Transaction rolls back unless committed", "[db]") {
  db::Database database(":memory:");
  database.exec("CREATE TABLE t (x INTEGER)");
  const auto insert = [&](std::int64_t value) {
    database.prepare("INSERT INTO t VALUES (?1)").bind_int64(1, value).run();
  };

  SECTION("destroyed without commit") {
    {
      db::Transaction transaction(database);
      insert(1);
      CHECK(count_rows(database, "SELECT count(*) FROM t") == 1);  // visible inside
    }
    CHECK(count_rows(database, "SELECT count(*) FROM t") == 0);
    CHECK(database.autocommit());
  }
  SECTION("left by an exception") {
    try {
      db::Transaction transaction(database);
      insert(1);
      database.prepare("INSERT INTO no_such_table VALUES (1)");
    } catch (const db::Error&) {
      // expected: the unwinding is what this section tests
    }
    CHECK(count_rows(database, "SELECT count(*) FROM t") == 0);
    CHECK(database.autocommit());
  }
  SECTION("committed") {
    {
      db::Transaction transaction(database);
      insert(1);
      transaction.commit();
    }
    CHECK(count_rows(database, "SELECT count(*) FROM t") == 1);
  }
}

TEST_CASE("Statement binds values by parameter and reads them back exactly", "[db]") {
  db::Database database(":memory:");
  const std::string nul_and_invalid("a\0\xff'b", 5);

  db::Statement select = database.prepare("SELECT ?1, typeof(?1), ?2, ?3, typeof(?3), ?4, typeof(?4), ?5, typeof(?5)");
  select.bind_int64(1, INT64_MIN).bind_double(2, 0.1).bind_text(3, nul_and_invalid).bind_blob(4, nul_and_invalid);
  select.bind_null(5);
  REQUIRE(select.step());
  CHECK(select.column_int64(0) == INT64_MIN);
  CHECK(select.column_text(1) == "integer");
  CHECK(select.column_double(2) == 0.1);
  CHECK(select.column_text(3) == nul_and_invalid);
  CHECK(select.column_text(4) == "text");
  CHECK(select.column_blob(5) == nul_and_invalid);
  CHECK(select.column_text(6) == "blob");
  CHECK(select.column_is_null(7));
  CHECK(select.column_text(8) == "null");
  CHECK_FALSE(select.step());

  // An empty string is '' and an empty blob is a zero-length blob, never NULL.
  select.reset();
  select.bind_text(3, std::string_view()).bind_blob(4, std::string_view());
  REQUIRE(select.step());
  CHECK(select.column_text(4) == "text");
  CHECK(select.column_text(6) == "blob");

  // A moved-from statement is empty; the moved-to one works.
  db::Statement moved = std::move(select);
  moved.reset();
  REQUIRE(moved.step());
  CHECK(moved.column_int64(0) == INT64_MIN);
}

TEST_CASE("db::Error carries SQLite's extended code and the failing SQL", "[db]") {
  db::Database database(":memory:");
  database.exec("CREATE TABLE t (x TEXT UNIQUE)");
  database.prepare("INSERT INTO t VALUES ('a')").run();

  try {
    database.prepare("INSERT INTO t VALUES ('a')").run();
    FAIL("duplicate accepted");
  } catch (const db::Error& error) {
    CHECK(error.code() == SQLITE_CONSTRAINT_UNIQUE);
    CHECK(error.context() == "INSERT INTO t VALUES ('a')");
    CHECK_THAT(error.what(), Contains("UNIQUE constraint failed"));
  }
  try {
    database.prepare("SELEC 1");
    FAIL("bad SQL prepared");
  } catch (const db::Error& error) {
    CHECK(error.code() == SQLITE_ERROR);
    CHECK_THAT(error.what(), Contains("SELEC 1") && Contains("syntax error"));
  }
  // prepare() takes one statement; a second one is refused, never silently dropped.
  CHECK_THROWS_AS(database.prepare("SELECT 1; DROP TABLE t"), db::Error);
  CHECK(count_rows(database, "SELECT count(*) FROM t") == 1);
  CHECK_THROWS_AS(db::Database(std::string("/nonexistent-dir-cjcrawl/x.db")), db::Error);
}

TEST_CASE("WebSocket endpoints drop the query and fragment only", "[db]") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"wss://pool.example:443/ws?key=abc#x", "wss://pool.example:443/ws"},
      {"wss://pool.example/ws#frag?not-a-query", "wss://pool.example/ws"},
      {"wss://pool.example/ws", "wss://pool.example/ws"},
      {"WSS://Pool.Example/WS?k", "WSS://Pool.Example/WS"},  // no case folding
      {"wss://pool.example/?", "wss://pool.example/"},
      {"?only-query", ""},
      {"", ""},
  };
  for (const auto& [url, endpoint] : cases) {
    CAPTURE(url);
    CHECK(blacklist::endpoint_key(url) == endpoint);
  }
}

TEST_CASE("a cached statement is prepared once and comes back reset, with no bindings", "[db]") {
  db::Database database(":memory:");
  database.exec("CREATE TABLE t (a INTEGER, b TEXT)");
  constexpr std::string_view kInsert = "INSERT INTO t (a, b) VALUES (?1, ?2)";
  db::Statement& first = database.cached(kInsert);
  first.bind_int64(1, 1).bind_text(2, "one");
  first.run();
  db::Statement& again = database.cached(kInsert);
  CHECK(&again == &first);  // the same statement, not a new one
  again.bind_int64(1, 2);   // ?2 was cleared: NULL, not "one"
  again.run();
  CHECK(count_rows(database, "SELECT count(*) FROM t WHERE b IS NULL AND a = 2") == 1);
  CHECK(count_rows(database, "SELECT count(*) FROM t") == 2);
  // Transactions use it too, and commit and roll back as before.
  {
    db::Transaction transaction(database);
    database.cached(kInsert).bind_int64(1, 3).run();
  }
  CHECK(count_rows(database, "SELECT count(*) FROM t") == 2);
  {
    db::Transaction transaction(database);
    database.cached(kInsert).bind_int64(1, 4).run();
    transaction.commit();
  }
  CHECK(count_rows(database, "SELECT count(*) FROM t") == 3);
  CHECK(database.autocommit());
}

TEST_CASE("a PostgreSQL database written by a newer cjcrawl is refused and left untouched", "[db][postgresql]") {
  testsupport::FreshStore fresh("postgresql");
  fresh->record_visit(clean_evidence("https://clean.example/"), kClean, 1000).value();
  fresh.close();
  db::pg::Connection raw(fresh.location());
  raw.script("UPDATE schema_version SET version = 99");

  for (const auto mode : {db::OpenMode::write, db::OpenMode::read}) {
    const auto refused = db::open_store(fresh.location(), mode);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == util::ErrorCode::schema_too_new);
    CHECK_THAT(refused.error().describe(),
               Contains("postgresql://cjcrawl_test@127.0.0.1:") && Contains("schema version is 99") &&
                   Contains("written by a newer cjcrawl; upgrade cjcrawl or use another --db"));
    CHECK_THAT(refused.error().describe(), !Contains(testsupport::PgCluster::kPassword));
  }
  CHECK(raw.exec("SELECT version FROM schema_version").int64(0, 0) == 99);
  CHECK(raw.exec("SELECT count(*) FROM visits").int64(0, 0) == 1);
}

TEST_CASE("a PostgreSQL visit whose recording fails leaves no partial rows behind", "[db][postgresql]") {
  testsupport::FreshStore fresh("postgresql");
  db::Store& store = *fresh;
  db::pg::Connection raw(fresh.location());
  raw.script(
      "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
      "$$ BEGIN RAISE EXCEPTION 'refused by test' USING ERRCODE = 'check_violation'; END $$; "
      "CREATE TRIGGER refuse BEFORE INSERT ON blacklist FOR EACH ROW EXECUTE FUNCTION refuse()");

  const auto recorded =
      store.record_visit(mining_evidence("https://miner.example/"), mining_judgement("https://miner.example/"), 1000);
  REQUIRE_FALSE(recorded.ok());
  CHECK(recorded.error().code == util::ErrorCode::constraint);
  CHECK_THAT(recorded.error().describe(), Contains("refused by test") && Contains("INSERT INTO blacklist"));
  CHECK(store.visit_count().value() == 0);
  CHECK(store.blacklist_entries().value().empty());
  store.record_visit(clean_evidence("https://clean.example/"), kClean, 2000).value();
  CHECK(store.visit_count().value() == 1);
}

TEST_CASE("a PostgreSQL store names its database without the password, and a reader never writes", "[db][postgresql]") {
  testsupport::FreshStore fresh("postgresql");
  CHECK_THAT(fresh->location(), !Contains(testsupport::PgCluster::kPassword));
  CHECK_THAT(fresh->location(), Contains("postgresql://cjcrawl_test@127.0.0.1:"));
  const auto reader = fresh.open_again(db::OpenMode::read);
  CHECK(reader->visit_count().value() == 0);
  const auto refused = reader->record_visit(clean_evidence("https://clean.example/"), kClean, 1000);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == util::ErrorCode::read_only);
  CHECK(fresh->visit_count().value() == 0);
  // key=value strings and URIs alike: the password never shows.
  CHECK(db::pg::display_location("host=127.0.0.1 port=5 user=u password=hunter2 dbname=d") ==
        "postgresql://u@127.0.0.1:5/d");
  CHECK(db::pg::display_location("postgresql://u:hunter2@db.example:5432/crawl?sslmode=require") ==
        "postgresql://u@db.example:5432/crawl");
  CHECK_THAT(db::pg::display_location("postgresql://u:hunter2@[broken"), !Contains("hunter2"));
  CHECK(db::pg::is_postgres_location("postgresql://x/y"));
  CHECK(db::pg::is_postgres_location("host=db dbname=crawl"));
  CHECK_FALSE(db::pg::is_postgres_location("crawl.db"));
  CHECK_FALSE(db::pg::is_postgres_location("./host=db"));
}
