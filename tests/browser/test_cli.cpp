// tests/browser/test_cli.cpp — the command line as a user meets it: usage errors exit 2 with a message
// naming the problem, before any browser starts.
#include <catch2/catch.hpp>

#include <unistd.h>

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
      {{"check", "exa$mple!", "--db", db}, "RFC 1123"},
      {{"check", "./g.txt", "--db", db}, "no empty labels"},
      {{"check", "http://-/", "--db", db}, "neither begins nor ends with '-'"},
      {{"check", "", "--db", db}, "'' is not a site to check: empty input"},
      {{"export", "--format", "hosts", "--db", db, "--min-confidence", "-5"}, "--min-confidence"},
      {{"export", "--format", "hosts", "--db", db, "--max-age", "-1"}, "--max-age"},
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
  CHECK(result.out.find("Checked    no: the host name does not resolve") != std::string::npos);
}

TEST_CASE("readers refuse a missing database, writers never create its folder", "[cli]") {
  testsupport::TempDir dir;
  const auto missing = dir.path() / "missing.db";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"export", "--format", "hosts", "--db", missing.string()},
        {"crawls", "--db", missing.string()},
        {"recheck", "--db", missing.string()}}) {
    const auto result = cjcrawl(args);
    INFO(args[0] << ": " << result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("no database there") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(missing));
  }
  const auto nested = dir.path() / "no" / "such" / "folder" / "x.db";
  const auto allowed = cjcrawl({"allow", "example.org", "--reason", "r", "--db", nested.string()});
  INFO(allowed.err);
  CHECK(allowed.exit_code == 1);
  CHECK(allowed.err.find("there is no folder") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "no"));
}

// Runs cjcrawl as a user whom file permissions bind: nobody when the tests run as root (as in CI).
testsupport::ProcessResult cjcrawl_bound_by_permissions(std::vector<std::string> args) {
  args.insert(args.begin(), CJCRAWL_BINARY);
  if (::geteuid() == 0)
    args.insert(args.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  return testsupport::run_process(args, std::chrono::seconds(60));
}

TEST_CASE("a file or folder the user may not use is said in words before any work", "[cli]") {
  namespace fs = std::filesystem;
  testsupport::TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  const auto locked = dir.path() / "locked";  // readable by everyone, writable by its owner only
  const auto open = dir.path() / "open";      // everyone may create files in it
  fs::create_directory(locked);
  fs::create_directory(open);
  const auto list = (kBlocklists / "coinblocker-list.txt").string();
  for (const auto& folder : {locked, open})
    REQUIRE(cjcrawl({"import", list, "--db", (folder / "t.db").string()}).exit_code == 0);
  fs::remove(locked / "t.db-wal"), fs::remove(locked / "t.db-shm");
  fs::permissions(open, fs::perms::all);
  const auto read_and_enter = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(locked, read_and_enter);
  const auto read_only = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
  fs::permissions(locked / "t.db", read_only);
  fs::permissions(open / "t.db", read_only);
  const auto says = [](const testsupport::ProcessResult& result, int code, const std::string& words) {
    INFO(result.err);
    CHECK(result.exit_code == code);
    CHECK(result.err.find(words) != std::string::npos);
    CHECK(result.err.find("unable to open database file") == std::string::npos);
  };

  // A writer on a file it may not write, and in a folder where it may not create one.
  says(cjcrawl_bound_by_permissions({"import", list, "--db", (locked / "t.db").string()}), 1, "cannot write the file");
  says(cjcrawl_bound_by_permissions({"import", list, "--db", (locked / "new.db").string()}), 1,
       "cannot create files in the folder " + locked.string());
  CHECK_FALSE(fs::exists(locked / "new.db"));
  // A reader of a read-only copy reads it where SQLite may keep its -wal and -shm files beside it,
  // and is told why not where it may not.
  const auto exported = cjcrawl_bound_by_permissions({"export", "--format", "hosts", "--db", (open / "t.db").string()});
  INFO(exported.err);
  CHECK(exported.exit_code == 0);
  CHECK(exported.out.find("0.0.0.0 ") != std::string::npos);
  says(cjcrawl_bound_by_permissions({"crawls", "--db", (locked / "t.db").string()}), 1,
       "-wal and -shm files beside the database");
  fs::permissions(open / "t.db", fs::perms::none);
  says(cjcrawl_bound_by_permissions({"export", "--format", "hosts", "--db", (open / "t.db").string()}), 1,
       "cannot read the file");
  fs::permissions(open / "t.db", read_only);

  // Output files: a missing folder is a usage error before the database is read; a folder the user
  // may not write names the file asked for (not its temporary) and the reason.
  says(cjcrawl({"export", "--format", "hosts", "--db", (open / "t.db").string(), "-o", "/nonexistent/dir/f"}), 2,
       "-o /nonexistent/dir/f: no folder /nonexistent/dir to write it in");
  const auto target = (locked / "feed.hosts").string();
  says(cjcrawl_bound_by_permissions({"export", "--format", "hosts", "--db", (open / "t.db").string(), "-o", target}), 1,
       "cannot write " + target + ": Permission denied (check the permissions of " + locked.string() + ")");
  CHECK_FALSE(fs::exists(target + ".tmp"));
  says(cjcrawl({"crawl", list, "--db", (open / "c.db").string(), "--out", "/nonexistent/dir/x.jsonl"}), 2,
       "--out /nonexistent/dir/x.jsonl: no folder /nonexistent/dir to write it in");
  CHECK_FALSE(fs::exists(open / "c.db"));
  fs::permissions(locked, fs::perms::owner_all);  // so that the temporary folder can be removed
}

TEST_CASE("import refuses what is no text list, and stores nothing of it", "[cli]") {
  testsupport::TempDir dir;
  const auto db = (dir.path() / "t.db").string();
  const auto random = dir.path() / "random.bin";
  {
    std::ofstream out(random, std::ios::binary);
    std::uint64_t state = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < (1 << 20); ++i) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      out.put(static_cast<char>(state & 0xFF));
    }
  }
  const auto garbage = cjcrawl({"import", random.string(), "--db", db});
  INFO(garbage.err);
  CHECK(garbage.exit_code == 1);
  CHECK(garbage.err.find("random.bin") != std::string::npos);
  CHECK(garbage.err.find("not a text list") != std::string::npos);
  CHECK(sql(db, "SELECT count(*) FROM blacklist") == "0\n");

  // An HTML error page instead of a list: text, but no line of it is an entry.
  const auto html = dir.path() / "error.html";
  std::ofstream(html) << "<html><body><h1>503 Service Unavailable</h1>\n<p>try again later</p></body></html>\n";
  const auto page = cjcrawl({"import", html.string(), "--format", "adblock", "--db", db});
  INFO(page.err);
  CHECK(page.exit_code == 1);
  CHECK(page.err.find("none of its") != std::string::npos);
  CHECK(sql(db, "SELECT count(*) FROM blacklist") == "0\n");
}

TEST_CASE("a crawl of a list with no site in it says so and does not pretend to have crawled", "[cli]") {
  testsupport::TempDir dir;
  const auto list = dir.path() / "empty.txt";
  std::ofstream(list) << "# nothing here yet\n\n";
  const auto result = cjcrawl({"crawl", list.string(), "--db", (dir.path() / "t.db").string()});
  INFO(result.err);
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("has no site in it") != std::string::npos);
}
