// tests/unit/test_merge.cpp — `cjcrawl merge` on real SQLite files written by the store's own
// record_visit: shards joined into one crawl; the blacklist's aggregates equal to those of one store
// that recorded every visit itself (the differential test); a second merge changing no byte; a site
// recorded twice kept once; feed listings united; and every refused input leaving no file behind.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "db/merge.hpp"
#include "db/sqlite.hpp"
#include "db/sqlite_store.hpp"
#include "db/visit_record.hpp"
#include "tests/support/subprocess.hpp"

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1'760'000'000'000;
const std::string kDigest = "d1g3st";

// One site of the fixture list: mining ones name their page, a pool shared by several sites, and
// a script on a shared CDN host; confidence varies so that the maximum matters.
struct Site {
  int position;
  bool mining;
  std::int64_t started_ms;
  std::int64_t done_ms;
  int confidence;
};

std::vector<Site> fixture_sites(int count) {
  std::vector<Site> sites;
  for (int position = 1; position <= count; ++position)
    sites.push_back(Site{position, position % 7 == 3 || position % 11 == 5, kT0 + position * 1000,
                         kT0 + position * 1000 + 700 + (position % 5) * 300, 60 + (position * 13) % 40});
  return sites;
}

std::string page_of(int position) { return "https://site" + std::to_string(position) + ".example/"; }

std::int64_t begin_crawl(db::SqliteStore& store, const std::string& selection, std::int64_t total,
                         const std::string& digest = kDigest) {
  db::Store::CrawlRow row;
  row.started_ms = kT0;
  row.input_path = "/lists/" + selection + ".txt";  // paths differ across pods: ignored
  row.input_digest = digest;
  row.selection = selection;
  row.total = total;
  row.options_json = R"({"concurrency":2})";
  return store.begin_crawl(row).value();
}

void record(db::SqliteStore& store, std::int64_t crawl_id, const Site& site, const std::string& extra_pool = "") {
  blacklist::Evidence evidence;
  evidence.input = page_of(site.position);
  evidence.url = evidence.input;
  evidence.final_url = evidence.input;
  evidence.started_at_ms = site.started_ms;
  evidence.elapsed_ms = 500;
  blacklist::Judgement judgement;
  judgement.confidence = site.mining ? site.confidence : 10;
  if (site.mining) {
    judgement.verdict = blacklist::Verdict::cryptojacking;
    judgement.reasons.push_back({"pool_traffic", "job/submit at site " + std::to_string(site.position), "strong"});
    judgement.offenders.push_back({"page", page_of(site.position)});
    judgement.offenders.push_back({"ws_endpoint", "wss://pool" + std::to_string(site.position % 3) + ".example/"});
    judgement.offenders.push_back({"script_url", "https://cdn.example/miner.js"});
    if (!extra_pool.empty()) judgement.offenders.push_back({"ws_endpoint", extra_pool});
  }
  db::Store::CrawlSite row;
  row.crawl_id = crawl_id;
  row.position = site.position;
  row.line = db::dump_json({{"crawl_id", crawl_id}, {"input_line", site.position}, {"url", evidence.input}});
  store.record_visit(evidence, judgement, site.done_ms, &row).value();
}

void finish(db::SqliteStore& store, std::int64_t crawl_id) {
  store.set_crawl_state(crawl_id, "completed", kT0 + 10'000'000).value();
}

// The sites in `shard` of `count` (the crawl's own shard_of is a hash; any partition will do here).
std::vector<Site> shard_sites(const std::vector<Site>& sites, int shard, int count) {
  std::vector<Site> out;
  for (const auto& site : sites)
    if (site.position % count == shard) out.push_back(site);
  return out;
}

// Sites are recorded in done_ms order, as a crawl commits them.
std::vector<Site> by_done(std::vector<Site> sites) {
  std::sort(sites.begin(), sites.end(), [](const Site& a, const Site& b) { return a.done_ms < b.done_ms; });
  return sites;
}

fs::path write_shard(const fs::path& folder, const std::vector<Site>& sites, int shard, int count) {
  const fs::path path = folder / ("shard-" + std::to_string(shard) + ".db");
  auto store = db::SqliteStore::open(path).value();
  const auto mine = shard_sites(sites, shard, count);
  const auto crawl = begin_crawl(store, "shard=" + std::to_string(shard) + "/" + std::to_string(count) + " limit=none",
                                 static_cast<std::int64_t>(mine.size()));
  for (const auto& site : by_done(mine)) record(store, crawl, site);
  finish(store, crawl);
  return path;
}

db::MergeReport merge(const fs::path& out, const std::vector<fs::path>& inputs) {
  auto merged = db::merge_sqlite(out, inputs);
  if (!merged) FAIL(merged.error().describe());
  return *merged;
}

using EntryKey = std::tuple<std::string, std::string, std::int64_t, std::int64_t, std::int64_t, int>;

std::set<EntryKey> entries(const fs::path& path) {
  auto store = db::SqliteStore::open_readonly(path).value();
  std::set<EntryKey> out;
  const std::vector<db::BlacklistEntry> listed = store.blacklist_entries().value();
  for (const auto& entry : listed)
    out.insert({entry.kind, entry.value, entry.first_seen_ms, entry.last_seen_ms, entry.hits, entry.confidence});
  return out;
}

// Rows of `sql` (every column as text), as a set: ids differ between files, so queries name visits by
// (input, start time).
std::multiset<std::string> rows(const fs::path& path, const std::string& sql) {
  db::Database database(path.string(), SQLITE_OPEN_READONLY);
  db::Statement select = database.prepare(sql);
  std::multiset<std::string> out;
  while (select.step()) {
    std::string row;
    for (int i = 0; i < select.column_count(); ++i) row += select.column_text(i) + "|";
    out.insert(row);
  }
  return out;
}

// The proof links, and each entry's latest evidence with its visit named by (input, start).
const std::string kProof = R"sql(
SELECT b.kind, b.value, v.input, v.started_at_ms FROM entry_visits ev
JOIN blacklist b ON b.id = ev.entry_id JOIN visits v ON v.id = ev.visit_id
)sql";
const std::string kLatestEvidence = R"sql(
SELECT b.kind, b.value, json_extract(b.evidence_json, '$.reasons'), v.input, v.started_at_ms FROM blacklist b
JOIN visits v ON v.id = json_extract(b.evidence_json, '$.visit_id')
)sql";
const std::string kListings = R"sql(
SELECT b.kind, b.value, s.name, e.first_listed_ms, e.last_listed_ms, e.removed_ms FROM entry_sources e
JOIN blacklist b ON b.id = e.entry_id JOIN sources s ON s.id = e.source_id
)sql";
const std::string kSites = "SELECT position, input, status, verdict, line FROM crawl_sites ORDER BY position";

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The files in `folder`, but the -wal and -shm files every reader of a WAL database leaves beside it
// (a read-only connection cannot remove them).
std::set<std::string> names_in(const fs::path& folder) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with("-wal") && !name.ends_with("-shm")) names.insert(name);
  }
  return names;
}

}  // namespace

TEST_CASE("merge joins three shard files into one crawl with every site once", "[merge]") {
  testsupport::TempDir folder;
  const auto sites = fixture_sites(30);
  std::vector<fs::path> shards;
  for (int shard = 0; shard < 3; ++shard) shards.push_back(write_shard(folder.path(), sites, shard, 3));
  const fs::path out = folder.path() / "merged.db";

  const auto report = merge(out, shards);
  CHECK(report.written);
  CHECK(report.new_sites == 30);
  CHECK(report.new_visits == 30);
  CHECK(report.duplicate_count == 0);
  REQUIRE(report.crawls.size() == 1);
  CHECK(report.crawls[0].selection == "shard=0,1,2/3 limit=none");
  CHECK(report.crawls[0].state == "completed");
  CHECK(report.crawls[0].missing_shards.empty());

  auto store = db::SqliteStore::open_readonly(out).value();
  const auto crawls = store.crawls().value();
  REQUIRE(crawls.size() == 1);
  CHECK(crawls[0].total == 30);
  CHECK(crawls[0].done == 30);
  CHECK(crawls[0].state == "completed");
  CHECK(crawls[0].input_digest == kDigest);
  // Every line names the merged crawl; its other bytes are the crawl's own.
  const auto lines = store.crawl_lines(crawls[0].id).value();
  REQUIRE(lines.size() == 30);
  for (const auto& line : lines) {
    const auto parsed = nlohmann::json::parse(line.line);
    CHECK(parsed["crawl_id"] == crawls[0].id);
    CHECK(parsed["url"] == page_of(static_cast<int>(line.position)));
  }
  // Commit order (seq) across shards is done_ms order.
  const auto order = rows(out, "SELECT group_concat(position) FROM (SELECT position FROM crawl_sites ORDER BY seq)");
  std::string expected;
  for (const auto& site : by_done(sites)) expected += (expected.empty() ? "" : ",") + std::to_string(site.position);
  CHECK(order == std::multiset<std::string>{expected + "|"});
  // The file stands alone: rollback journal mode, nothing beside it.
  CHECK(names_in(folder.path()) == std::set<std::string>{"merged.db", "shard-0.db", "shard-1.db", "shard-2.db"});
}

TEST_CASE("merged shards give the blacklist one store recording every visit gives", "[merge]") {
  testsupport::TempDir folder;
  const auto sites = fixture_sites(60);
  // One store, the visits in commit order.
  const fs::path single = folder.path() / "single.db";
  {
    auto store = db::SqliteStore::open(single).value();
    const auto crawl = begin_crawl(store, "shard=all limit=none", 60);
    for (const auto& site : by_done(sites)) record(store, crawl, site);
    finish(store, crawl);
  }
  std::vector<fs::path> shards;
  for (int shard = 0; shard < 3; ++shard) shards.push_back(write_shard(folder.path(), sites, shard, 3));
  const fs::path out = folder.path() / "merged.db";
  merge(out, shards);

  const auto expected = entries(single);
  REQUIRE(expected.size() > 10);  // pages, three pools, the shared script
  CHECK(entries(out) == expected);
  CHECK(rows(out, kProof) == rows(single, kProof));
  CHECK(rows(out, kLatestEvidence) == rows(single, kLatestEvidence));
  CHECK(rows(out, kListings) == rows(single, kListings));
  // The shared script was named by every mining site, in every shard.
  const auto mining = std::count_if(sites.begin(), sites.end(), [](const Site& site) { return site.mining; });
  CHECK(rows(out, "SELECT hits FROM blacklist WHERE value = 'https://cdn.example/miner.js'") ==
        std::multiset<std::string>{std::to_string(mining) + "|"});
}

TEST_CASE("merging again changes no byte and the order of inputs changes no row", "[merge]") {
  testsupport::TempDir folder;
  const auto sites = fixture_sites(24);
  const auto a = write_shard(folder.path(), sites, 0, 2);
  const auto b = write_shard(folder.path(), sites, 1, 2);
  const fs::path out = folder.path() / "merged.db";
  merge(out, {a, b});
  const std::string bytes = file_bytes(out);
  struct stat before {};
  REQUIRE(::stat(out.c_str(), &before) == 0);

  const auto again = merge(out, {a});
  CHECK_FALSE(again.written);
  CHECK(again.already_there == 12);
  CHECK(again.new_sites == 0);
  const auto both = merge(out, {b, a});
  CHECK_FALSE(both.written);
  struct stat after {};
  REQUIRE(::stat(out.c_str(), &after) == 0);
  CHECK(file_bytes(out) == bytes);
  CHECK(after.st_ino == before.st_ino);
  CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

  // One file named twice is merged once, with a note.
  const fs::path twice = folder.path() / "twice.db";
  const auto noted = merge(twice, {a, a, b});
  REQUIRE(noted.notes.size() == 1);
  CHECK(noted.notes[0].find("named twice") != std::string::npos);
  CHECK(noted.duplicate_count == 0);

  const fs::path reversed = folder.path() / "reversed.db";
  merge(reversed, {b, a});
  CHECK(entries(reversed) == entries(out));
  CHECK(rows(reversed, kSites) == rows(out, kSites));
  CHECK(rows(reversed, kProof) == rows(out, kProof));
  CHECK(rows(twice, kSites) == rows(out, kSites));

  // Merging one more file into a merged output adds only what is new.
  const auto c = folder.path() / "late.db";
  {
    auto store = db::SqliteStore::open(c).value();
    const auto crawl = begin_crawl(store, "shard=0/2 limit=none", 1);
    record(store, crawl, Site{99, true, kT0 + 500'000, kT0 + 501'000, 95});
    finish(store, crawl);
  }
  const auto grown = merge(out, {c});
  CHECK(grown.written);
  CHECK(grown.new_sites == 1);
  CHECK(grown.duplicate_count == 0);
  const auto mining = std::count_if(sites.begin(), sites.end(), [](const Site& site) { return site.mining; });
  CHECK(rows(out, "SELECT hits, last_seen_ms FROM blacklist WHERE value = 'https://cdn.example/miner.js'") ==
        std::multiset<std::string>{std::to_string(mining + 1) + "|" + std::to_string(kT0 + 501'000) + "|"});
}

TEST_CASE("merge adds shards to a store a crawl wrote in WAL mode", "[merge]") {
  testsupport::TempDir folder;
  const auto sites = fixture_sites(12);
  const auto a = write_shard(folder.path(), sites, 0, 2);
  const auto b = write_shard(folder.path(), sites, 1, 2);
  const auto report = merge(a, {b});  // into shard 0's own file, closed by its crawl
  CHECK(report.written);
  CHECK(report.new_sites == 6);
  CHECK(report.crawls.at(0).selection == "shard=0,1/2 limit=none");
  CHECK_FALSE(fs::exists(a.string() + "-wal"));
  auto store = db::SqliteStore::open(a).value();  // a writer takes it on, in WAL again
  CHECK(store.crawls().value().at(0).done == 12);
}

TEST_CASE("a site recorded in two inputs is kept once from the input named first", "[merge]") {
  testsupport::TempDir folder;
  const fs::path a = folder.path() / "a.db";
  const fs::path a2 = folder.path() / "a2.db";
  {
    auto store = db::SqliteStore::open(a).value();
    const auto crawl = begin_crawl(store, "shard=0/1 limit=none", 8);
    record(store, crawl, Site{7, true, kT0 + 7000, kT0 + 7500, 70});
    finish(store, crawl);
  }
  {
    // A re-run of the same shard: line 7 again, later, and line 8 that the first run lacked.
    auto store = db::SqliteStore::open(a2).value();
    db::Store::CrawlRow row;
    row.started_ms = kT0 + 100'000;
    row.input_path = "/elsewhere/list.txt";
    row.input_digest = kDigest;
    row.selection = "shard=0/1 limit=none";
    row.total = 8;
    const auto crawl = store.begin_crawl(row).value();
    record(store, crawl, Site{7, true, kT0 + 107'000, kT0 + 107'500, 99}, "wss://only-in-the-rerun.example/");
    record(store, crawl, Site{8, false, kT0 + 108'000, kT0 + 108'500, 0});
    finish(store, crawl);
  }
  const fs::path out = folder.path() / "merged.db";
  const auto report = merge(out, {a, a2});
  CHECK(report.duplicate_count == 1);
  REQUIRE(report.duplicates.size() == 1);
  CHECK(report.duplicates[0].position == 7);
  CHECK(report.duplicates[0].file == a2.string());
  CHECK(report.duplicates[0].kept_started_ms == kT0 + 7000);
  CHECK(report.duplicates[0].dropped_started_ms == kT0 + 107'000);
  CHECK(report.new_sites == 2);
  REQUIRE(report.crawls.size() == 1);

  // The kept record is a's; the dropped visit, its site row and its proof links are absent.
  CHECK(rows(out, "SELECT started_at_ms FROM visits WHERE input = '" + page_of(7) + "'") ==
        std::multiset<std::string>{std::to_string(kT0 + 7000) + "|"});
  CHECK(rows(out, "SELECT hits, confidence, last_seen_ms FROM blacklist WHERE kind = 'page' AND value = '" +
                      page_of(7) + "'") == std::multiset<std::string>{"1|70|" + std::to_string(kT0 + 7500) + "|"});
  CHECK(rows(out, "SELECT count(*) FROM entry_visits") == std::multiset<std::string>{"3|"});
  // An entry only the dropped record named does not come in.
  CHECK(rows(out, "SELECT count(*) FROM blacklist WHERE value LIKE '%only-in-the-rerun%'") ==
        std::multiset<std::string>{"0|"});
}

TEST_CASE("a list crawled twice in one file stays two crawls with every site", "[merge]") {
  testsupport::TempDir folder;
  const fs::path twice = folder.path() / "twice.db";
  {
    auto store = db::SqliteStore::open(twice).value();
    for (const std::int64_t month : {0, 1}) {
      db::Store::CrawlRow row;
      row.started_ms = kT0 + month * 2'592'000'000;
      row.input_path = "/lists/sites.txt";
      row.input_digest = kDigest;
      row.selection = "shard=all limit=none";
      row.total = 3;
      const auto crawl = store.begin_crawl(row).value();
      for (int position = 1; position <= 3; ++position)
        record(store, crawl,
               Site{position, position == 2, row.started_ms + position * 1000, row.started_ms + position * 1000 + 500,
                    80});
      finish(store, crawl);
    }
  }
  const fs::path out = folder.path() / "merged.db";
  const auto report = merge(out, {twice});
  CHECK(report.duplicate_count == 0);
  CHECK(report.new_sites == 6);
  CHECK(report.crawls.size() == 2);
  CHECK(rows(out, "SELECT count(*) FROM crawls") == std::multiset<std::string>{"2|"});
  CHECK(entries(out) == entries(twice));
  // And merging it again is still a no-op.
  CHECK_FALSE(merge(out, {twice}).written);
}

TEST_CASE("a merge removes the temporary a killed merge left and keeps OUT's permissions", "[merge]") {
  testsupport::TempDir folder;
  const auto sites = fixture_sites(6);
  const auto a = write_shard(folder.path(), sites, 0, 2);
  const auto b = write_shard(folder.path(), sites, 1, 2);
  const fs::path out = folder.path() / "merged.db";
  merge(out, {a});
  fs::permissions(out, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  // A process that has ended: its pid names the leftover.
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  int status = 0;
  ::waitpid(gone, &status, 0);
  const fs::path leftover = folder.path() / (".merged.db.merging-" + std::to_string(gone));
  std::ofstream(leftover) << "half a merge";
  merge(out, {b});
  CHECK_FALSE(fs::exists(leftover));
  CHECK(fs::status(out).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
}

TEST_CASE("merge keeps other lists and limits apart and check visits once", "[merge]") {
  testsupport::TempDir folder;
  const fs::path a = folder.path() / "a.db";
  const fs::path b = folder.path() / "b.db";
  blacklist::Evidence checked;
  checked.input = "https://checked.example/";
  checked.url = checked.input;
  checked.started_at_ms = kT0 + 42;
  for (const auto& path : {a, b}) {
    auto store = db::SqliteStore::open(path).value();
    store.record_visit(checked, blacklist::Judgement{}, kT0 + 1000).value();  // `check`: no crawl
  }
  {
    auto store = db::SqliteStore::open(a).value();
    record(store, begin_crawl(store, "shard=0/2 limit=none", 1), Site{2, false, kT0 + 1, kT0 + 2, 0});
  }
  {
    auto store = db::SqliteStore::open(b).value();
    record(store, begin_crawl(store, "shard=1/2 limit=none", 1, "another-list"), Site{1, false, kT0 + 1, kT0 + 2, 0});
    const auto limited = begin_crawl(store, "shard=1/2 limit=10", 2);
    record(store, limited, Site{1, false, kT0 + 3, kT0 + 4, 0});
    blacklist::Evidence nested;
    nested.input = page_of(3);
    nested.url = nested.input;
    nested.started_at_ms = kT0 + 5;
    db::Store::CrawlSite site{limited, 3, 1, "", 0};
    site.line = db::dump_json({{"crawl_id", limited}, {"nested", {{"crawl_id", 77}}}, {"url", nested.input}});
    store.record_visit(nested, blacklist::Judgement{}, kT0 + 6, &site).value();
  }
  const fs::path out = folder.path() / "merged.db";
  const auto report = merge(out, {a, b});
  CHECK(report.crawls.size() == 3);
  CHECK(rows(out, "SELECT count(*) FROM visits WHERE input = 'https://checked.example/'") ==
        std::multiset<std::string>{"1|"});
  CHECK(rows(out, "SELECT selection FROM crawls") ==
        std::multiset<std::string>{"shard=0/2 limit=none|", "shard=1/2 limit=none|", "shard=1/2 limit=10|"});
  // Each crawl's shards: what is missing is reported, and a crawl is as complete as its parts.
  for (const auto& crawl : report.crawls) CHECK(crawl.missing_shards.size() == 1);
  // b's crawls got new ids: each line names its merged crawl, and only that changed (a nested
  // "crawl_id" key, which the in-place rewrite leaves to the parser, included).
  db::Database merged(out.string(), SQLITE_OPEN_READONLY);
  db::Statement lines = merged.prepare("SELECT crawl_id, line FROM crawl_sites");
  int lines_seen = 0;
  while (lines.step()) {
    auto line = nlohmann::json::parse(lines.column_text(1));
    CHECK(line["crawl_id"] == lines.column_int64(0));
    CHECK(line["url"].is_string());
    if (line.contains("nested")) CHECK(line["nested"]["crawl_id"] == 77);
    ++lines_seen;
  }
  CHECK(lines_seen == 4);
  CHECK(rows(out, "SELECT count(*) FROM crawl_sites WHERE crawl_id != 1") == std::multiset<std::string>{"3|"});
}

TEST_CASE("merge unites feed listings with the later fetch winning", "[merge]") {
  testsupport::TempDir folder;
  const fs::path a = folder.path() / "a.db";
  const fs::path b = folder.path() / "b.db";
  {
    auto store = db::SqliteStore::open(a).value();
    store
        .replace_source_entries("nocoin", "hosts", {{"domain", "old.example"}, {"domain", "both.example"}}, "e1", "",
                                60, kT0 + 1000)
        .value();
  }
  {
    auto store = db::SqliteStore::open(b).value();
    store
        .replace_source_entries("nocoin", "hosts", {{"domain", "both.example"}, {"domain", "new.example"}}, "e2", "",
                                80, kT0 + 5000)
        .value();
  }
  const fs::path out = folder.path() / "merged.db";
  merge(out, {a, b});
  auto store = db::SqliteStore::open_readonly(out).value();
  const auto source = store.source("nocoin").value();
  REQUIRE(source);
  CHECK(source->etag == "e2");
  CHECK(source->last_fetch_ms == kT0 + 5000);
  // both.example: first listed by a, last by b. old.example, which b's later fetch no longer lists,
  // stays listed: a merge unites listings and does not infer removals from a fetch (README: run
  // `cjcrawl import` on the merged file to bring each feed up to date).
  CHECK(rows(out,
             "SELECT e.first_listed_ms, e.last_listed_ms, e.removed_ms IS NOT NULL FROM entry_sources e "
             "JOIN blacklist b ON b.id = e.entry_id WHERE b.value = 'both.example'") ==
        std::multiset<std::string>{std::to_string(kT0 + 1000) + "|" + std::to_string(kT0 + 5000) + "|0|"});
  CHECK(rows(out,
             "SELECT e.removed_ms IS NOT NULL FROM entry_sources e JOIN blacklist b ON b.id = e.entry_id "
             "WHERE b.value = 'old.example'") == rows(a, "SELECT 0"));
  CHECK(rows(out, "SELECT hits, first_seen_ms, confidence FROM blacklist WHERE value = 'both.example'") ==
        std::multiset<std::string>{"0|" + std::to_string(kT0 + 1000) + "|80|"});
}

TEST_CASE("a feed's higher confidence counts where visits named the entry on the other side", "[merge]") {
  testsupport::TempDir folder;
  const fs::path found = folder.path() / "found.db";
  const fs::path listed = folder.path() / "listed.db";
  {
    auto store = db::SqliteStore::open(found).value();
    const auto crawl = begin_crawl(store, "shard=all limit=none", 1);
    record(store, crawl, Site{3, true, kT0 + 3000, kT0 + 3500, 70});
  }
  {
    auto store = db::SqliteStore::open(listed).value();
    store.replace_source_entries("feed", "hosts", {{"ws_endpoint", "wss://pool0.example/"}}, "", "", 95, kT0 + 9000)
        .value();
  }
  const fs::path out = folder.path() / "merged.db";
  merge(out, {found, listed});
  CHECK(rows(out, "SELECT hits, confidence FROM blacklist WHERE value = 'wss://pool0.example/'") ==
        std::multiset<std::string>{"1|95|"});
  CHECK(rows(out, "SELECT hits, confidence FROM blacklist WHERE value = 'https://cdn.example/miner.js'") ==
        std::multiset<std::string>{"1|70|"});
}

TEST_CASE("merge refuses bad inputs and leaves no file behind", "[merge]") {
  testsupport::TempDir folder;
  const auto sites = fixture_sites(6);
  const auto good = write_shard(folder.path(), sites, 0, 1);
  const fs::path out = folder.path() / "out.db";
  const auto before = names_in(folder.path());

  const auto refused = [&](const fs::path& target, const std::vector<fs::path>& inputs, util::ErrorCode code,
                           const std::string& words) {
    const bool existed = fs::exists(target);
    const std::string bytes = existed ? file_bytes(target) : std::string();
    auto merged = db::merge_sqlite(target, inputs);
    REQUIRE_FALSE(merged);
    CHECK(fs::exists(target) == existed);  // a refused merge creates no output and changes none
    if (existed) CHECK(file_bytes(target) == bytes);
    CHECK(merged.error().code == code);
    CHECK_THAT(merged.error().describe(), Catch::Contains(words));
    return merged.error().describe();
  };

  SECTION("missing input") {
    refused(out, {good, folder.path() / "nope.db"}, util::ErrorCode::invalid_argument, "no such file");
  }
  SECTION("a text file") {
    std::ofstream(folder.path() / "notes.txt") << "not a database, just notes\n";
    refused(out, {good, folder.path() / "notes.txt"}, util::ErrorCode::not_a_database, "not a database");
    fs::remove(folder.path() / "notes.txt");
  }
  SECTION("an empty file") {
    std::ofstream(folder.path() / "empty.db").flush();
    refused(out, {folder.path() / "empty.db"}, util::ErrorCode::not_a_database, "empty");
    fs::remove(folder.path() / "empty.db");
  }
  SECTION("a newer schema") {
    const auto newer = folder.path() / "newer.db";
    fs::copy_file(good, newer);
    db::Database(newer.string()).exec("PRAGMA user_version = 99");
    refused(out, {good, newer}, util::ErrorCode::schema_too_new, "newer cjcrawl");
    fs::remove(newer);
  }
  SECTION("the output is an input: by name by symlink and by hard link") {
    fs::copy_file(good, out);
    const auto out_bytes = file_bytes(out);
    refused(out, {good, out}, util::ErrorCode::invalid_argument, "name a new output");
    fs::create_symlink(out, folder.path() / "link.db");
    refused(out, {folder.path() / "link.db"}, util::ErrorCode::invalid_argument, "the same file");
    refused(folder.path() / "link.db", {out}, util::ErrorCode::invalid_argument, "the same file");
    fs::create_hard_link(out, folder.path() / "hard.db");
    refused(out, {folder.path() / "hard.db"}, util::ErrorCode::invalid_argument, "the same file");
    CHECK(file_bytes(out) == out_bytes);
    for (const char* name : {"link.db", "hard.db", "out.db"}) fs::remove(folder.path() / name);
  }
  SECTION("a missing output folder") {
    refused(folder.path() / "no" / "out.db", {good}, util::ErrorCode::invalid_argument, "no folder");
  }
  SECTION("an input with rechecks") {
    const auto rechecked = folder.path() / "rechecked.db";
    {
      auto store = db::SqliteStore::open(rechecked).value();
      db::Store::CrawlRow row;
      row.started_ms = kT0;
      row.input_path = "recheck";
      row.input_digest = "r";
      row.selection = "older-than=30d drop-after=2";
      store.begin_recheck(row, {}, kT0, 2).value();
    }
    refused(out, {good, rechecked}, util::ErrorCode::invalid_argument, "recheck the merged file");
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(rechecked.string() + suffix);
  }
  SECTION("an output another process holds open") {
    fs::copy_file(good, out);
    auto holder = db::SqliteStore::open(out).value();  // WAL, as a crawl or serve keeps it
    holder.visit_count().value();
    const auto out_before = rows(out, kSites);
    testsupport::TempDir elsewhere;
    refused(out, {write_shard(elsewhere.path(), fixture_sites(9), 0, 1)}, util::ErrorCode::busy,
            "open in another process");
    CHECK(rows(out, kSites) == out_before);
  }
  SECTION("Ctrl-C") {
    const std::atomic<bool> stop{true};
    auto merged = db::merge_sqlite(out, {good}, &stop);
    CHECK_FALSE(merged);
    CHECK_FALSE(fs::exists(out));
  }
  // Whatever the refusal, the folder holds what it held: no output, no temporary.
  std::set<std::string> after = names_in(folder.path());
  after.erase("out.db");
  CHECK(after == before);
}
