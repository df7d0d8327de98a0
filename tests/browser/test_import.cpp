// tests/browser/test_import.cpp — `cjcrawl import` as a user runs it: the real public blocklists from
// shared/data/blocklists, served over HTTP on loopback (with ETags, so the 304 path is real), files,
// failures that do not stop the other sources, and an imported domain making a check conclusive.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/support/fixture_server.hpp"
#include "tests/support/subprocess.hpp"

namespace {

const std::filesystem::path kBlocklists =
    std::filesystem::path(CJCRAWL_FIXTURES).parent_path().parent_path().parent_path() / "shared/data/blocklists";

testsupport::ProcessResult cjcrawl(std::vector<std::string> args) {
  args.insert(args.begin(), CJCRAWL_BINARY);
  return testsupport::run_process(args, std::chrono::seconds(60));
}

std::string sql(const std::filesystem::path& db, const std::string& query) {
  return testsupport::run_process({"/usr/bin/sqlite3", db.string(), query}, std::chrono::seconds(10)).out;
}

}  // namespace

TEST_CASE("import over HTTP: counts by kind, then 304 changes nothing", "[cli][import]") {
  REQUIRE(std::filesystem::is_directory(kBlocklists));  // shared/ lies beside the repository
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
  auto result = cjcrawl({"import", (kBlocklists / "coinblocker-list.txt").string(),
                         server.url("127.0.0.1", "/does-not-exist.txt"), (kBlocklists / "coinblocker-ips.txt").string(),
                         (kBlocklists / "minerblock-filters.txt").string(), "/nonexistent/list.txt", "--db",
                         db.string()});
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
  const std::vector<std::string> check{"check", sites.url("recipes.test", "/listed-script.html"), "--json", "--db",
                                       db.string(), "--sample-period", "200", "--window", "10",
                                       "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP "
                                       "cdn.aeros01.tk 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"};
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
