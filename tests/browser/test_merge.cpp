// tests/browser/test_merge.cpp — `cjcrawl merge` end to end: a fixture list crawled in real sandboxed
// Chromium as three shards into three files, and unsharded into a fourth; the merge of the three has
// the same sites and statuses as the unsharded run, the same blacklist entries for the sites both runs
// judged cryptojacking, and merging again is a no-op. Each bad input gives its words and exit code,
// and leaves no output file.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"

namespace {

namespace fs = std::filesystem;
using testsupport::TempDir;

testsupport::FixtureServer& server() {
  static testsupport::FixtureServer instance(fs::path(CJCRAWL_FIXTURES) / "sites");
  return instance;
}

// Miners that pool traffic, a listed script or Wasm decide, and pages that must stay clean.
const std::vector<std::string> kPages = {
    "worker-miner.html",
    "corpus/http-pool-miner.html",
    "corpus/binary-pool-miner.html",
    "corpus/shared-worker-miner.html",
    "iframe-outer.html",
    "corpus/wasm-miner.html",
    "corpus/obfuscated-miner.html",
    "chat.html",
    "idle.html",
    "corpus/jobs-chat.html",
    "corpus/article-cryptojacking.html",
    "corpus/pow-captcha.html",
};

testsupport::ProcessResult crawl(const fs::path& list, const fs::path& db, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{CJCRAWL_BINARY,
                                "crawl",
                                list.string(),
                                "--db",
                                db.string(),
                                "--out",
                                db.string() + ".jsonl",
                                "--sample-period",
                                "200",
                                "--window",
                                "10",
                                "--deadline",
                                "30",
                                "--host-resolver-rules",
                                "MAP *.test 127.0.0.1, MAP * ~NOTFOUND",
                                "--allow-network=127.0.0.1",
                                "--quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return testsupport::run_process(argv, std::chrono::seconds(400));
}

// input line → "status|verdict"
std::map<int, std::string> sites_of(const fs::path& db) {
  std::istringstream rows(testsupport::sql(db, "SELECT position, status || '|' || verdict FROM crawl_sites"));
  std::map<int, std::string> out;
  for (std::string row; std::getline(rows, row);) {
    const auto bar = row.find('|');
    out[std::stoi(row.substr(0, bar))] = row.substr(bar + 1);
  }
  return out;
}

// The (kind, value) of every entry a visit of the given input lines named; `kinds` empty: all kinds.
std::set<std::string> entries_named_by(const fs::path& db, const std::set<int>& lines,
                                       const std::set<std::string>& kinds = {}) {
  std::istringstream rows(testsupport::sql(db, R"sql(
SELECT s.position, b.kind || ' ' || b.value FROM crawl_sites s JOIN entry_visits ev ON ev.visit_id = s.visit_id
JOIN blacklist b ON b.id = ev.entry_id
)sql"));
  std::set<std::string> out;
  for (std::string row; std::getline(rows, row);) {
    const auto bar = row.find('|');
    const std::string entry = row.substr(bar + 1);
    if ((lines.empty() || lines.contains(std::stoi(row.substr(0, bar)))) &&
        (kinds.empty() || kinds.contains(entry.substr(0, entry.find(' ')))))
      out.insert(entry);
  }
  return out;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("merge: three shard files of a crawl equal the unsharded crawl of the same list", "[merge][browser]") {
  TempDir dir;
  std::string list;
  for (const auto& page : kPages) list += server().url("site.test", "/" + page) + "\n";
  std::ofstream(dir.path() / "list.txt") << list;

  std::vector<std::string> shard_files;
  for (int shard = 0; shard < 3; ++shard) {
    const fs::path db = dir.path() / ("shard-" + std::to_string(shard) + ".db");
    const auto run = crawl(dir.path() / "list.txt", db, {"--shard", std::to_string(shard) + "/3"});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    shard_files.push_back(db.string());
  }
  const fs::path whole = dir.path() / "whole.db";
  {
    const auto run = crawl(dir.path() / "list.txt", whole, {});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
  }

  const fs::path merged = dir.path() / "merged.db";
  std::vector<std::string> argv{"merge", merged.string()};
  argv.insert(argv.end(), shard_files.begin(), shard_files.end());
  const auto merge = testsupport::cjcrawl(argv);
  INFO(merge.err);
  REQUIRE(merge.exit_code == 0);
  CHECK_THAT(merge.err, Catch::Contains("shard=0,1,2/3 limit=none (completed)"));

  // The same sites, each once, with the same statuses; the verdicts of pages pool traffic decides.
  const auto merged_sites = sites_of(merged);
  const auto whole_sites = sites_of(whole);
  REQUIRE(merged_sites.size() == kPages.size());
  REQUIRE(whole_sites.size() == kPages.size());
  std::set<int> mining_in_both;
  for (const auto& [line, outcome] : whole_sites) {
    INFO(kPages[static_cast<std::size_t>(line - 1)]);
    CHECK(merged_sites.at(line).substr(0, merged_sites.at(line).find('|')) == outcome.substr(0, outcome.find('|')));
    if (outcome == "ok|cryptojacking" && merged_sites.at(line) == outcome) mining_in_both.insert(line);
  }
  for (int line : {1, 2, 3, 8, 9}) CHECK(merged_sites.at(line) == whole_sites.at(line));
  CHECK(mining_in_both.size() >= 4);
  // Every entry a shard's visits named, and nothing else, is named in the merged file.
  std::set<std::string> in_shards;
  for (const auto& file : shard_files) in_shards.merge(entries_named_by(file, {}));
  CHECK(entries_named_by(merged, {}) == in_shards);
  // Against the unsharded run: pages and pool endpoints, which the pool traffic decides. (Scripts
  // and domains seen before the verdict vary from one visit of a page to the next, in any crawl.)
  const std::set<std::string> decided{"page", "ws_endpoint"};
  const auto merged_entries = entries_named_by(merged, mining_in_both, decided);
  CHECK(merged_entries.size() >= mining_in_both.size());
  CHECK(merged_entries == entries_named_by(whole, mining_in_both, decided));
  CHECK(testsupport::sql(merged, "SELECT count(*) FROM crawls") == "1\n");
  CHECK(testsupport::sql(merged, "PRAGMA foreign_key_check") == "");

  // A second merge of the same files is a no-op: the file keeps every byte.
  const std::string bytes = file_bytes(merged);
  std::vector<std::string> again{"merge", merged.string()};
  again.insert(again.end(), shard_files.begin(), shard_files.end());
  const auto second = testsupport::cjcrawl(again);
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.err, Catch::Contains("nothing new"));
  CHECK(file_bytes(merged) == bytes);

  // `crawls` and the feed read the merged file.
  CHECK_THAT(testsupport::cjcrawl({"crawls", "--db", merged.string()}).out, Catch::Contains("shard=0,1,2/3"));
  CHECK(testsupport::cjcrawl({"export", "--db", merged.string(), "--format", "hosts"}).exit_code == 0);
}

TEST_CASE("merge: each bad input is a clear error and leaves no output file", "[merge][browser]") {
  TempDir dir;
  const fs::path good = dir.path() / "good.db";
  REQUIRE(
      testsupport::cjcrawl({"import", (testsupport::kBlocklists / "nocoin-hosts.txt").string(), "--db", good.string()})
          .exit_code == 0);
  std::ofstream(dir.path() / "notes.txt") << "just notes\n";
  const fs::path out = dir.path() / "out.db";
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string words;
  };
  const std::vector<Case> cases{
      {{"merge", out.string(), (dir.path() / "missing.db").string()}, 2, "no such file"},
      {{"merge", out.string(), good.string(), (dir.path() / "notes.txt").string()}, 1, "not a database"},
      {{"merge", good.string(), good.string()}, 2, "name a new output"},
      {{"merge", out.string(), "postgresql://cjcrawl@127.0.0.1/fleet"}, 2, "merges SQLite files"},
      {{"merge", (dir.path() / "no" / "out.db").string(), good.string()}, 2, "no folder"},
      {{"merge", out.string()}, 2, "inputs is required"},
  };
  const std::string good_bytes = file_bytes(good);
  for (const auto& bad : cases) {
    const auto run = testsupport::cjcrawl(bad.args);
    INFO(bad.args[bad.args.size() - 1] << ": " << run.err);
    CHECK(run.exit_code == bad.exit_code);
    CHECK_THAT(run.err, Catch::Contains(bad.words));
    CHECK_FALSE(fs::exists(out));
  }
  CHECK(file_bytes(good) == good_bytes);
  for (const auto& entry : fs::directory_iterator(dir.path()))
    CHECK(entry.path().filename().string().find("merging") == std::string::npos);
}
