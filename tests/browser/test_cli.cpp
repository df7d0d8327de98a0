// tests/browser/test_cli.cpp — the command line as a user meets it: usage errors exit 2 with a message
// naming the problem, before any browser starts.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/browser/cli_support.hpp"
#include "tests/support/subprocess.hpp"

using testsupport::cjcrawl;
using testsupport::kBlocklists;
using testsupport::sql;

TEST_CASE("usage errors exit 2 and say what is wrong", "[cli]") {
  testsupport::TempDir dir;
  const std::string db = (dir.path() / "t.db").string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"check", "file:///etc/passwd", "--db", db}, "unsupported scheme 'file'"},
      {{"check", "javascript:alert(1)", "--db", db}, "unsupported scheme 'javascript'"},
      {{"check", "http://user:pw@site.test/", "--db", db}, "credentials"},
      {{"check", "http://site.test/", "--db", db, "--chrome-arg=--no-sandbox"}, "--unsafe-no-sandbox"},
      {{"check", "http://site.test/", "--db", db, "--chrome-arg=--user-data-dir=/tmp/x"}, "refused"},
      {{"check", "http://site.test/", "--db", db, "--window", "0"}, "--window 0"},
      {{"check", "http://site.test/", "--db", db, "--ratio", "1.5"}, "--ratio 1.5"},
      {{"check", "http://site.test/", "--db", db, "--rules", "/nonexistent/rules"}, "not a directory"},
      {{"check"}, "URL is required"},
      {{"frobnicate"}, "frobnicate"},
  };
  for (const auto& c : cases) {
    auto result = cjcrawl(c.args);
    INFO(c.args.back() << ": " << result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find(c.message) != std::string::npos);
  }
}

TEST_CASE("the help and version options", "[cli]") {
  auto help = cjcrawl({"check", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--threshold") != std::string::npos);
  auto version = cjcrawl({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.find("rules:") != std::string::npos);
  CHECK(version.out.find("source tree") != std::string::npos);
}

TEST_CASE("a database written by a newer cjcrawl is refused, exit 1", "[cli]") {
  testsupport::TempDir dir;
  const auto db = (dir.path() / "new.db").string();
  auto made = testsupport::run_process({"/usr/bin/sqlite3", db, "PRAGMA user_version=99;"}, std::chrono::seconds(10));
  REQUIRE(made.exit_code == 0);
  auto result = cjcrawl({"check", "http://site.test/", "--db", db});
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("newer cjcrawl") != std::string::npos);
}

TEST_CASE("a bad rule is reported with file and line, and the check goes on", "[cli]") {
  testsupport::TempDir dir;
  const auto rules = dir.path() / "rules";
  std::filesystem::create_directories(rules);
  for (const char* name : {"script_urls.txt", "ws_endpoints.txt", "domains.txt", "ips.txt"})
    std::ofstream(rules / name) << "# empty\n";
  std::ofstream(rules / "keywords.txt") << "# weights and RE2 patterns\n5 CoinHive\\.Anonymous\n3 (unclosed\n";
  auto result =
      cjcrawl({"check", "http://nowhere.invalid/", "--db", (dir.path() / "t.db").string(), "--rules", rules.string(),
               "--deadline", "10", "--chrome-arg=--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"});
  INFO(result.err);
  CHECK(result.err.find("keywords.txt:3") != std::string::npos);
  CHECK(result.exit_code == 1);  // it went on to check the site, which does not resolve
  CHECK(result.out.find("dns_error") != std::string::npos);
}
