// tests/unit/test_store_proof.cpp — proof for every entry and rechecks that age out dead miners, on
// SQLite and on PostgreSQL alike: the visits that named an entry, a page not seen on K consecutive rechecks
// leaving every feed with the entries only it named (kept in history with why), its return when
// confirmed again, undetermined rechecks changing nothing, a recheck site never recorded twice, and
// reviewed exceptions winning over every source.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <unistd.h>

#include "db/export.hpp"
#include "db/sqlite_store.hpp"
#include "tests/support/stores.hpp"

namespace {

struct TempFile {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("cjcrawl-proof-" + std::to_string(::getpid()) + "-" + std::to_string(rand()) + ".db");
  ~TempFile() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix, ec);
  }
};

const std::string kPage = "https://shop.example/";
const std::string kOtherPage = "https://blog.example/";
const std::string kSharedPool = "wss://pool.example/socket";
const std::string kOwnScript = "https://shop.example/m.js";

blacklist::Evidence visited(const std::string& url, blacklist::Status status = blacklist::Status::ok) {
  blacklist::Evidence evidence;
  evidence.input = url;
  evidence.url = url;
  evidence.final_url = url;
  evidence.status = status;
  evidence.started_at_ms = 1'700'000'000'000;
  return evidence;
}

blacklist::Judgement mining(const std::string& page, const std::vector<blacklist::Offender>& more) {
  blacklist::Judgement judgement;
  judgement.verdict = blacklist::Verdict::cryptojacking;
  judgement.confidence = 90;
  judgement.offenders.push_back({"page", page});
  for (const auto& offender : more) judgement.offenders.push_back(offender);
  return judgement;
}

blacklist::Judgement clean() { return {}; }

bool active(db::Store& store, const std::string& kind, const std::string& value) {
  const std::vector<db::ExportEntry> entries = store.export_entries({}).value();
  for (const auto& entry : entries)
    if (entry.kind == kind && entry.value == value) return true;
  return false;
}

std::int64_t entry_id(db::Store& store, const std::string& kind, const std::string& value) {
  for (std::int64_t after = 0;;) {
    auto page = store.entries_page(kind, value, after, 1000).value();
    for (const auto& paged : page.entries)
      if (paged.entry.value == value) return paged.id;
    if (!page.more) return 0;
    after = page.entries.back().id;
  }
}

// What every feed format shows, as text.
std::string every_feed(db::Store& store) {
  std::string all;
  const auto entries = store.export_entries({}).value();
  for (const auto format : db::kFormats) all += db::render_export(format, entries, {}).text;
  return all;
}

// One recheck of every page due: visit outcome per URL.
std::int64_t recheck(
    db::Store& store, std::int64_t now_ms, int drop_after,
    const std::function<std::pair<blacklist::Evidence, blacklist::Judgement>(const std::string&)>& visit) {
  const auto pages = store.pages_due(now_ms + 1).value();
  db::Store::CrawlRow row;
  row.started_ms = now_ms;
  row.input_digest = "digest";
  row.selection = "recheck";
  const auto id = store.begin_recheck(row, pages, now_ms + 1, drop_after).value();
  for (const auto& page : pages) {
    auto [evidence, judgement] = visit(page.url);
    db::Store::CrawlSite site{id, page.position, 1, "{}"};
    REQUIRE(store.record_visit(evidence, judgement, now_ms, &site));
  }
  return id;
}

}  // namespace

TEST_CASE(
    "a page not seen on K consecutive rechecks leaves every feed with what only it named, and confirmed it returns",
    "[db][proof][recheck]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);
  db::Store& store = *fresh;
  // Two crawl findings: both pages use the shared pool; only the shop loads its own script.
  REQUIRE(store.record_visit(visited(kPage), mining(kPage, {{"ws_endpoint", kSharedPool}, {"script_url", kOwnScript}}),
                             1000));
  REQUIRE(store.record_visit(visited(kOtherPage), mining(kOtherPage, {{"ws_endpoint", kSharedPool}}), 1000));
  const auto shop = entry_id(store, "page", kPage);
  const auto own_script = entry_id(store, "script_url", kOwnScript);
  REQUIRE(shop != 0);
  REQUIRE(own_script != 0);
  auto proof = store.entry_proof(shop, 10).value();
  REQUIRE(proof.has_value());
  CHECK(proof->visit_count == 1);  // the visit that named it
  CHECK(proof->active);

  const auto shop_clean = [&](const std::string& url) {
    if (url == kPage) return std::make_pair(visited(url), clean());
    return std::make_pair(visited(url), mining(url, {{"ws_endpoint", kSharedPool}}));
  };

  SECTION("two rechecks that do not see it drop the page and its own script, not the pool another page uses") {
    const auto first = recheck(store, 2000, 2, shop_clean);
    CHECK(store.recheck_tally(first).value().not_seen == 1);
    CHECK(store.recheck_tally(first).value().confirmed == 1);
    CHECK(active(store, "page", kPage));  // once is not enough
    const auto generation = store.generation().value();
    const auto second = recheck(store, 3000, 2, shop_clean);
    CHECK(store.recheck_tally(second).value().dropped == 1);
    CHECK(store.generation().value() > generation);
    CHECK_FALSE(active(store, "page", kPage));
    CHECK_FALSE(active(store, "script_url", kOwnScript));
    CHECK(active(store, "ws_endpoint", kSharedPool));  // the blog still names it
    CHECK(active(store, "page", kOtherPage));
    const std::string feeds = every_feed(store);
    CHECK(feeds.find("shop.example") == std::string::npos);
    CHECK(feeds.find("pool.example") != std::string::npos);

    // History keeps the page, why and when.
    proof = store.entry_proof(shop, 10).value();
    REQUIRE(proof.has_value());
    CHECK_FALSE(proof->active);
    CHECK(proof->not_seen == 2);
    REQUIRE(proof->listings.size() == 1);
    CHECK(proof->listings[0].removed_ms == 3000);
    CHECK(proof->listings[0].removed_reason.find("not seen on 2 consecutive rechecks") != std::string::npos);
    REQUIRE(proof->rechecks.size() == 2);
    CHECK(proof->rechecks[0].dropped);
    CHECK(proof->rechecks[0].outcome == "not_seen");
    const auto script = store.entry_proof(own_script, 10).value();
    REQUIRE(script.has_value());
    CHECK(script->listings[0].removed_reason.find("its page left the feeds") != std::string::npos);

    // A dropped page is not rechecked again; found mining again, it and its script return.
    CHECK(store.pages_due(10'000).value().size() == 1);
    REQUIRE(store.record_visit(visited(kPage), mining(kPage, {{"script_url", kOwnScript}}), 4000));
    CHECK(active(store, "page", kPage));
    CHECK(active(store, "script_url", kOwnScript));
    proof = store.entry_proof(shop, 10).value();
    CHECK(proof->not_seen == 0);
    CHECK(proof->visit_count == 2);
    CHECK(proof->listings[0].removed_reason.empty());
  }

  SECTION("undetermined rechecks change nothing; a confirmation resets the streak") {
    recheck(store, 2000, 2, shop_clean);  // not seen: 1
    const auto unreachable = [&](const std::string& url) {
      return std::make_pair(visited(url, blacklist::Status::dns_error), clean());
    };
    const auto third = recheck(store, 3000, 2, unreachable);
    CHECK(store.recheck_tally(third).value().undetermined == 2);
    CHECK(active(store, "page", kPage));
    CHECK(store.entry_proof(shop, 10).value()->not_seen == 1);
    const auto mining_again = [&](const std::string& url) {
      return std::make_pair(visited(url), mining(url, {{"ws_endpoint", kSharedPool}}));
    };
    recheck(store, 4000, 2, mining_again);
    proof = store.entry_proof(shop, 10).value();
    CHECK(proof->not_seen == 0);
    CHECK(proof->entry.last_seen_ms == 4000);
    recheck(store, 5000, 2, shop_clean);
    CHECK(active(store, "page", kPage));  // the streak started again: one is not two
  }

  SECTION("a recheck site is never recorded twice (a resume after kill -9 retries only what did not commit)") {
    const auto pages = store.pages_due(2001).value();
    db::Store::CrawlRow row;
    row.started_ms = 2000;
    const auto id = store.begin_recheck(row, pages, 2001, 1).value();
    db::Store::CrawlSite site{id, pages[0].position, 1, "{}"};
    REQUIRE(store.record_visit(visited(pages[0].url), clean(), 2000, &site));
    auto again = store.record_visit(visited(pages[0].url), clean(), 2100, &site);
    CHECK_FALSE(again);  // the crawl_sites key refuses it, and nothing of that visit is stored
    CHECK(store.recheck_tally(id).value().not_seen == 1);
    CHECK(store.recheck_pages(id).value().size() == 2);
    CHECK(store.latest_recheck().value()->id == id);
  }

  SECTION("imported entries are never rechecked and keep following their source") {
    REQUIRE(store.replace_source_entries("https://lists.example/list.txt", "hosts",
                                         {{"page", "https://listed.example/"}}, "", "", 60, 1500));
    const std::vector<db::Store::RecheckPage> due = store.pages_due(1'000'000).value();
    for (const auto& page : due) CHECK(page.url != "https://listed.example/");
  }
}

TEST_CASE("a reviewed exception wins over every source and is an exception rule in the feeds", "[db][proof][allow]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
  testsupport::FreshStore fresh(backend);
  db::Store& store = *fresh;
  REQUIRE(store.record_visit(visited(kPage), mining(kPage, {{"domain", "shop.example"}}), 1000));
  REQUIRE(store.replace_source_entries("https://lists.example/list.txt", "hosts", {{"domain", "shop.example"}}, "", "",
                                       60, 1000));
  const auto id = store.allow("shop.example", "a reviewed false positive: the shop's own benchmark page", 2000).value();
  auto proof = store.entry_proof(id, 10).value();
  REQUIRE(proof.has_value());
  REQUIRE(proof->listings.size() == 1);
  CHECK(proof->listings[0].source == "review");
  CHECK(proof->listings[0].reason == "a reviewed false positive: the shop's own benchmark page");
  CHECK(proof->listings[0].first_listed_ms == 2000);

  // Every filter still carries the exception, and no feed blocks the host.
  for (const std::string source : {"all", "crawl", "import"}) {
    db::Store::ExportFilter filter;
    filter.source = source;
    filter.min_confidence = 95;
    const auto entries = store.export_entries(filter).value();
    const auto adblock = db::render_export(db::Format::adblock, entries, {}).text;
    CHECK(adblock.find("@@||shop.example^") != std::string::npos);
    CHECK(adblock.find("\n||shop.example^") == std::string::npos);
    CHECK(db::render_export(db::Format::hosts, entries, {}).text.find("shop.example") == std::string::npos);
  }
  // The detector no longer knows the host.
  CHECK(store.known_entries().value().domain_covering("shop.example").empty());

  // A second review replaces the reason.
  CHECK(store.allow("shop.example", "reviewed again", 3000).value() == id);
  CHECK(store.entry_proof(id, 10).value()->listings[0].reason == "reviewed again");
}

TEST_CASE("an older database gains its proof: entries are linked to the stored visits that named them",
          "[db][proof][migration]") {
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
INSERT INTO visits (id, url, status, verdict, evidence_json) VALUES
  (1, 'https://shop.example/', 'ok', 'cryptojacking',
   '{"offenders":[{"kind":"page","value":"https://shop.example/"},{"kind":"ws_endpoint","value":"wss://pool.example/ws"}]}'),
  (2, 'https://shop.example/', 'ok', 'cryptojacking', 'not json'),
  (3, 'https://other.example/', 'ok', 'clean', '{"offenders":[]}');
INSERT INTO blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence, evidence_json) VALUES
  ('page', 'https://shop.example/', 10, 20, 2, 90, '{"visit_id":2}'),
  ('ws_endpoint', 'wss://pool.example/ws', 10, 20, 2, 90, '{"visit_id":1}');
PRAGMA user_version = 1;
)sql");
  }
  auto store = db::SqliteStore::open(file.path).value();
  CHECK(store.schema_version().value() == db::Store::kSchemaVersion);
  const auto page = entry_id(store, "page", "https://shop.example/");
  const auto pool = entry_id(store, "ws_endpoint", "wss://pool.example/ws");
  // The page: named by visit 1's offenders and, as its latest visit, by visit 2 (whose JSON is broken).
  CHECK(store.entry_proof(page, 10).value()->visit_count == 2);
  CHECK(store.entry_proof(pool, 10).value()->visit_count == 1);
  // And it can be rechecked at once.
  REQUIRE(store.pages_due(1000).value().size() == 1);
}
