// tests/browser/test_import.cpp — `cjcrawl import` as a user runs it: the real public blocklists from
// tests/fixtures/blocklists, served over HTTP on loopback (with ETags, so the 304 path is real), files,
// failures that do not stop the other sources, and an imported domain making a check conclusive.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"
#include "tests/support/subprocess.hpp"

using testsupport::cjcrawl;
using testsupport::kBlocklists;
using testsupport::sql;

TEST_CASE("import over HTTP: counts by kind, then 304 changes nothing", "[cli][import]") {
  REQUIRE(std::filesystem::is_directory(kBlocklists));  // tests/fixtures/blocklists
  testsupport::FixtureServer server(kBlocklists);
  testsupport::TempDir dir;
  const auto db = dir.path() / "t.db";
  const auto url = server.url("127.0.0.1", "/nocoin-adblock.txt");

  auto first = cjcrawl({"import", url, "--db", db.string()});
  INFO(first.out << first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.out.find("adblock (detected), 282 entries") != std::string::npos);
  CHECK(first.out.find("skipped 5 × regex") != std::string::npos);
  CHECK(sql(db, "SELECT count(*) FROM blacklist") == "282\n");
  CHECK(sql(db, "SELECT kind, count(*) FROM blacklist GROUP BY kind ORDER BY kind") ==
        "allow|8\ndomain|188\nip|7\nscript_path|71\nscript_url|5\nws_endpoint|3\n");
  const auto generation = sql(db, "SELECT value FROM meta WHERE key = 'generation'");

  auto second = cjcrawl({"import", url, "--db", db.string()});
  CHECK(second.exit_code == 0);
  CHECK(second.out.find("unchanged (HTTP 304)") != std::string::npos);
  CHECK(sql(db, "SELECT value FROM meta WHERE key = 'generation'") == generation);
  CHECK(sql(db, "SELECT etag != '' AND last_error IS NULL FROM sources WHERE name = '" + url + "'") == "1\n");
}

TEST_CASE("import: every real list, a failing source reported while the others go on", "[cli][import]") {
  testsupport::TempDir dir;
  const auto db = dir.path() / "t.db";
  testsupport::FixtureServer server(kBlocklists);
  auto result =
      cjcrawl({"import", (kBlocklists / "coinblocker-list.txt").string(),
               server.url("127.0.0.1", "/does-not-exist.txt"), (kBlocklists / "coinblocker-ips.txt").string(),
               (kBlocklists / "minerblock-filters.txt").string(), "/nonexistent/list.txt", "--db", db.string()});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("HTTP 404") != std::string::npos);
  CHECK(result.err.find("/nonexistent/list.txt") != std::string::npos);
  CHECK(result.out.find("domains (detected), 5835 entries") != std::string::npos);
  CHECK(result.out.find("ips (detected), 1026 entries") != std::string::npos);
  CHECK(result.out.find("webext (detected), 708 entries") != std::string::npos);
  // Importing the same file again adds nothing.
  auto again = cjcrawl({"import", (kBlocklists / "coinblocker-list.txt").string(), "--db", db.string()});
  CHECK(again.out.find("0 new, 0 removed upstream") != std::string::npos);
  CHECK(cjcrawl({"import", "x", "--format", "csv", "--db", db.string()}).exit_code == 2);
}

TEST_CASE("an imported domain makes a check conclusive (known)", "[browser][import]") {
  testsupport::FixtureServer sites(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  testsupport::TempDir dir;
  const auto db = dir.path() / "t.db";
  const std::vector<std::string> check{"check",
                                       sites.url("recipes.test", "/listed-script.html"),
                                       "--json",
                                       "--db",
                                       db.string(),
                                       "--sample-period",
                                       "200",
                                       "--window",
                                       "10",
                                       "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP "
                                       "cdn.aeros01.tk 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                                       "--allow-network=127.0.0.1"};
  auto before = cjcrawl(check);
  INFO(before.out << before.err);
  CHECK(before.exit_code == 0);

  REQUIRE(cjcrawl({"import", (kBlocklists / "nocoin-hosts.txt").string(), "--db", db.string()}).exit_code == 0);
  auto after = cjcrawl(check);
  INFO(after.out << after.err);
  CHECK(after.exit_code == 3);
  auto report = nlohmann::json::parse(after.out, nullptr, false);
  REQUIRE(report.is_object());
  CHECK(report["reasons"][0]["signal"] == "known");
  CHECK(report["reasons"][0]["detail"].get<std::string>().find("aeros01.tk") != std::string::npos);
}

TEST_CASE("a writer killed mid-import leaves a sound database: all of the import or none", "[cli][import]") {
  testsupport::TempDir dir;
  const auto list = dir.path() / "big.txt";
  {
    std::ofstream out(list);
    for (int i = 0; i < 200'000; ++i) out << "miner" << i << ".pool" << (i % 97) << ".example\n";
  }
  const auto db = dir.path() / "t.db";
  REQUIRE(cjcrawl({"import", (kBlocklists / "nocoin-hosts.txt").string(), "--db", db.string()}).exit_code == 0);
  const std::string before = sql(db, "SELECT count(*) FROM blacklist");

  int killed_mid_write = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    testsupport::Process writer({CJCRAWL_BINARY, "import", list.string(), "--db", db.string()});
    // Kill at a different moment each time, from the end of parsing (~0.3 s) through the
    // transaction (the whole import takes ~1.5 s here).
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + attempt * 150));
    const bool running = writer.running();
    writer.signal(SIGKILL);
    writer.wait(std::chrono::seconds(10));
    const std::string count = sql(db, "SELECT count(*) FROM blacklist");
    INFO("attempt " << attempt << ": " << count);
    CHECK(sql(db, "PRAGMA integrity_check") == "ok\n");
    // The import is one transaction: either nothing of it is there, or all 200,000 rows are.
    const long rows = std::stol(count);
    CHECK((count == before || rows == std::stol(before) + 200'000));
    if (running && count == before) ++killed_mid_write;
    if (rows != std::stol(before)) break;  // it finished before the kill; nothing left to interrupt
  }
  CHECK(killed_mid_write > 0);  // at least one kill really landed before the commit
}
