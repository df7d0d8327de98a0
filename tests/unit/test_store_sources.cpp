// tests/unit/test_store_sources.cpp — who lists each blacklist entry: imports that are idempotent,
// removal per source (history kept), the change generation, and the v1 → v2 migration.
#include <catch2/catch.hpp>

#include <filesystem>
#include <unistd.h>

#include "db/sqlite_store.hpp"
#include "tests/support/stores.hpp"

namespace {

using Entries = std::vector<db::Store::ListedEntry>;

struct TempFile {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("cjcrawl-sources-" + std::to_string(::getpid()) + "-" + std::to_string(rand()) + ".db");
  ~TempFile() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix, ec);
  }
};

bool known_domain(const db::Store& store, const std::string& domain) {
  return store.known_entries().value().domains.contains(domain);
}

}  // namespace

TEST_CASE("importing a list is idempotent and removal is per source, never a deletion", "[db][sources]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);
  db::Store& store = *fresh;
  const Entries first{{"domain", "coinhive.com"}, {"domain", "crypto-loot.com"}, {"allow", "authedmine.com"}};

  auto change = store
                    .replace_source_entries("https://lists.example/nocoin.txt", "adblock", first, "\"v1\"",
                                            "Tue, 01 Jan 2025 00:00:00 GMT", 60, 1000)
                    .value();
  CHECK(change.listed == 3);
  CHECK(change.added == 3);
  CHECK(change.removed == 0);
  CHECK(known_domain(store, "coinhive.com"));
  CHECK(store.known_entries().value().allow.contains("authedmine.com"));
  const auto generation = store.generation().value();

  SECTION("the same list again adds nothing and changes no generation") {
    change = store.replace_source_entries("https://lists.example/nocoin.txt", "adblock", first, "\"v1\"", "", 60, 2000)
                 .value();
    CHECK(change.added == 0);
    CHECK(change.removed == 0);
    CHECK(change.relisted == 0);
    CHECK(store.generation().value() == generation);
    CHECK(store.blacklist_entries().value().size() == 3);
    const auto source = store.source("https://lists.example/nocoin.txt").value();
    REQUIRE(source.has_value());
    CHECK(source->last_fetch_ms == 2000);
    CHECK(source->last_change_ms == 1000);
    CHECK(source->entry_count == 3);
  }

  SECTION("an entry dropped upstream is marked removed for that source, kept in history") {
    change =
        store
            .replace_source_entries("https://lists.example/nocoin.txt", "adblock",
                                    {{"domain", "coinhive.com"}, {"domain", "new-miner.example"}}, "", "", 60, 3000)
            .value();
    CHECK(change.added == 1);
    CHECK(change.removed == 2);
    CHECK(store.generation().value() > generation);
    CHECK(store.blacklist_entries().value().size() == 4);  // nothing deleted
    CHECK_FALSE(known_domain(store, "crypto-loot.com"));   // no source lists it any more
    CHECK(known_domain(store, "new-miner.example"));

    // Listed again later: relisted, active again.
    change =
        store.replace_source_entries("https://lists.example/nocoin.txt", "adblock", first, "", "", 60, 4000).value();
    CHECK(change.relisted == 2);
    CHECK(known_domain(store, "crypto-loot.com"));
  }

  SECTION("an entry stays active while any source lists it") {
    store.replace_source_entries("/srv/minerblock.txt", "webext", {{"domain", "crypto-loot.com"}}, "", "", 60, 1500)
        .value();
    store.replace_source_entries("https://lists.example/nocoin.txt", "adblock", {}, "", "", 60, 5000).value();
    CHECK(known_domain(store, "crypto-loot.com"));
    CHECK_FALSE(known_domain(store, "coinhive.com"));
    CHECK(store.sources().value().size() == 3);  // crawl, and the two feeds
  }

  SECTION("the crawl's own entries are never removed by an import") {
    blacklist::Evidence evidence;
    evidence.url = evidence.final_url = "https://victim.example/";
    blacklist::Judgement judgement;
    judgement.verdict = blacklist::Verdict::cryptojacking;
    judgement.confidence = 95;
    judgement.offenders = {{"page", "https://victim.example/"}, {"domain", "coinhive.com"}};
    store.record_visit(evidence, judgement, 6000).value();
    store.replace_source_entries("https://lists.example/nocoin.txt", "adblock", {}, "", "", 60, 7000).value();
    CHECK(known_domain(store, "coinhive.com"));  // the crawl still lists it
    CHECK(store.known_entries().value().pages.contains("https://victim.example/"));
  }

  SECTION("a failed or unchanged fetch is noted on the source only") {
    store.note_source_fetch("https://lists.example/nocoin.txt", "HTTP 503", 8000).value();
    const auto source = store.source("https://lists.example/nocoin.txt").value();
    REQUIRE(source.has_value());
    CHECK(source->last_error == "HTTP 503");
    CHECK(source->etag == "\"v1\"");
    CHECK(store.generation().value() == generation);
    CHECK(known_domain(store, "coinhive.com"));
  }

  SECTION("'crawl' is not a feed name") {
    const auto refused = store.replace_source_entries("crawl", "domains", {}, "", "", 60, 1);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == util::ErrorCode::invalid_argument);
  }
}

TEST_CASE("a version 1 database is migrated: its blacklist becomes the crawl's listings", "[db][sources]") {
  TempFile file;
  {
    db::Database v1(file.path.string());
    v1.exec(R"sql(
CREATE TABLE visits (id INTEGER PRIMARY KEY, started_at_ms INTEGER, input TEXT, url TEXT, final_url TEXT,
  status TEXT, status_reason TEXT, verdict TEXT, confidence INTEGER, evidence_json TEXT, cpu_samples_json TEXT,
  elapsed_ms INTEGER);
CREATE INDEX visits_by_url ON visits(url);
CREATE TABLE blacklist (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL, first_seen_ms INTEGER,
  last_seen_ms INTEGER, hits INTEGER NOT NULL DEFAULT 1, confidence INTEGER, evidence_json TEXT, UNIQUE(kind, value));
INSERT INTO blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence)
  VALUES ('ws_endpoint', 'wss://pool.example/ws', 10, 20, 3, 80);
PRAGMA user_version = 1;
)sql");
  }
  db::SqliteStore store = db::SqliteStore::open(file.path).value();
  CHECK(store.schema_version().value() == db::Store::kSchemaVersion);
  CHECK(store.known_entries().value().ws_endpoints.contains("wss://pool.example/ws"));
  const auto entries = store.blacklist_entries().value();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].hits == 3);
  CHECK(store.source("crawl").value().has_value());
  CHECK(store.generation().value() >= 1);
}
