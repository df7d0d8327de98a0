// tests/browser/test_recheck.cpp — `cjcrawl recheck` and `cjcrawl allow` end to end: the real binary,
// real sandboxed Chromium, fixture sites on loopback served from a copy of the fixture folder that
// the test edits between runs (a compromised site cleaned, then compromised again). A page not seen
// on two rechecks leaves every feed with what only it named; found mining again, it returns; a
// recheck killed with -9 and resumed records no page twice; a reviewed exception wins in the feeds.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <thread>

#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"

namespace {

using testsupport::TempDir;
namespace fs = std::filesystem;

const std::string kResolverRules =
    "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
// The fixture sites live on loopback, which the egress guard keeps pages off unless opened.
const std::string kAllowLoopback = "--allow-network=127.0.0.1";
const std::vector<std::string> kFastVisit{"--sample-period", "200", "--window",     "10",
                                          "--deadline",      "30",  kResolverRules, kAllowLoopback};
constexpr int kPages = 4;

// The fixture sites, copied so that a test may clean a compromised page and compromise it again.
struct EditableSites {
  TempDir dir;
  fs::path root = dir.path() / "sites";
  std::unique_ptr<testsupport::FixtureServer> server;

  EditableSites() {
    fs::copy(fs::path(CJCRAWL_FIXTURES) / "sites", root, fs::copy_options::recursive);
    for (int i = 1; i <= kPages; ++i) compromise(i);
    server = std::make_unique<testsupport::FixtureServer>(root);
  }
  void set_page(int i, const char* from) {
    fs::copy_file(root / from, root / ("shop" + std::to_string(i) + ".html"), fs::copy_options::overwrite_existing);
  }
  void compromise(int i) { set_page(i, "worker-miner.html"); }
  void clean(int i) { set_page(i, "idle.html"); }
  std::string url(int i) const {
    return server->url("shop" + std::to_string(i) + ".test", "/shop" + std::to_string(i) + ".html");
  }
};

std::vector<std::string> command(std::vector<std::string> args, const fs::path& db) {
  args.insert(args.begin(), CJCRAWL_BINARY);
  args.insert(args.end(), {"--db", db.string()});
  return args;
}

testsupport::ProcessResult run(std::vector<std::string> args, const fs::path& db, bool visits = true) {
  auto argv = command(std::move(args), db);
  if (visits) argv.insert(argv.end(), kFastVisit.begin(), kFastVisit.end());
  return testsupport::run_process(argv, std::chrono::seconds(300));
}

std::string feed(const fs::path& db, const std::string& format) {
  return testsupport::run_process(command({"export", "--format", format}, db), std::chrono::seconds(30)).out;
}

int rows(const fs::path& db, const std::string& query) {
  const auto out = testsupport::sql(db, query);
  return out.empty() ? 0 : std::stoi(out);
}

}  // namespace

TEST_CASE("recheck: a cleaned page leaves the feeds after two rechecks, returns when mining again, and kill -9 resumes",
          "[recheck][browser]") {
  EditableSites sites;
  const auto db = sites.dir.path() / "r.db";
  {
    std::ofstream list(sites.dir.path() / "list.txt");
    for (int i = 1; i <= kPages; ++i) list << sites.url(i) << "\n";
  }
  const auto crawl = run({"crawl", (sites.dir.path() / "list.txt").string(), "--out", "-", "-q"}, db);
  INFO(crawl.err);
  REQUIRE(crawl.exit_code == 0);
  REQUIRE(rows(db, "SELECT count(*) FROM visits WHERE verdict = 'cryptojacking'") == kPages);
  for (const auto* format : {"json", "csv", "stix"}) CHECK(feed(db, format).find("shop1.test") != std::string::npos);

  // A recheck killed with -9 after its first page, then resumed: every page once.
  {
    auto argv = command({"recheck", "--older-than", "0", "--concurrency", "1", "--out", "-", "-q"}, db);
    argv.insert(argv.end(), kFastVisit.begin(), kFastVisit.end());
    testsupport::Process recheck(argv);
    for (int i = 0; i < 900 && rows(db, "SELECT count(*) FROM entry_rechecks") < 1; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    recheck.signal(SIGKILL);
    recheck.wait(std::chrono::seconds(10));
  }
  const int before = rows(db, "SELECT count(*) FROM entry_rechecks");
  REQUIRE(before >= 1);
  REQUIRE(before < kPages);
  const auto resumed = run({"recheck", "--resume", "--out", "-", "-q"}, db);
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(resumed.err.find("already recorded") != std::string::npos);
  CHECK(rows(db, "SELECT count(*) FROM entry_rechecks") == kPages);
  CHECK(rows(db, "SELECT count(*) FROM entry_rechecks WHERE outcome = 'confirmed'") == kPages);
  CHECK(rows(db, "SELECT count(DISTINCT entry_id) FROM entry_rechecks") == kPages);
  CHECK(rows(db, "SELECT count(*) FROM crawl_sites WHERE crawl_id = 2") == kPages);

  // The first shop is cleaned: one recheck that does not see it is not enough, two are.
  sites.clean(1);
  auto first = run({"recheck", "--older-than", "0", "--out", "-", "-q"}, db);
  INFO(first.err);
  CHECK(first.err.find("1 not seen") != std::string::npos);
  CHECK(feed(db, "json").find("shop1.test") != std::string::npos);
  auto second = run({"recheck", "--older-than", "0", "--out", "-", "-q"}, db);
  INFO(second.err);
  CHECK(second.err.find("1 page(s) left the feeds") != std::string::npos);
  for (const auto* format : {"hosts", "adblock", "rpz", "csv", "json", "jsonl", "stix"}) {
    INFO(format);
    const auto text = feed(db, format);
    CHECK(text.find("shop1.test") == std::string::npos);  // the page and its worker script
  }
  CHECK(feed(db, "json").find("shop2.test") != std::string::npos);
  CHECK(feed(db, "json").find("/ws/pool") != std::string::npos);  // the other shops still use the pool
  // History keeps why and when.
  CHECK(testsupport::sql(db,
                         "SELECT removed_reason FROM entry_sources e JOIN blacklist b ON b.id = e.entry_id "
                         "WHERE b.kind = 'page' AND b.value LIKE '%shop1.test%'")
            .find("not seen on 2 consecutive rechecks") != std::string::npos);
  // A dropped page is not rechecked again: nothing of it is due.
  auto third = run({"recheck", "--older-than", "0", "--out", "-", "-q"}, db);
  CHECK(third.err.find("3 page(s)") != std::string::npos);

  // Compromised again and found by a check: it returns.
  sites.compromise(1);
  const auto check = run({"check", sites.url(1), "--json"}, db);
  CHECK(check.exit_code == 3);
  CHECK(feed(db, "json").find("shop1.test") != std::string::npos);
}

TEST_CASE("allow: a reviewed exception is checked, wins over every source, and is an exception rule", "[allow][cli]") {
  TempDir dir;
  const auto db = dir.path() / "a.db";
  const auto list = dir.path() / "list.txt";
  std::ofstream(list) << "coinhive.com\nminer.example.org\n";
  REQUIRE(run({"import", list.string(), "--format", "domains"}, db, false).exit_code == 0);
  REQUIRE(feed(db, "hosts").find("miner.example.org") != std::string::npos);

  // Bad input is a usage error, and nothing is written.
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"allow", "exa$mple.org", "--reason", "x"},
                                              {"allow", "-bad-.example.org", "--reason", "x"},
                                              {"allow", "co.uk", "--reason", "a public suffix"},
                                              {"allow", "javascript:alert(1)//x", "--reason", "x"},
                                              {"allow", "miner.example.org", "--reason", "   "},
                                              {"allow", "miner.example.org", "--reason", "two\nlines"}}) {
    const auto refused = run(bad, db, false);
    INFO(bad[1] << " " << refused.err);
    CHECK(refused.exit_code == 2);
  }
  CHECK(testsupport::sql(db, "SELECT count(*) FROM blacklist WHERE kind = 'allow'") == "0\n");

  const auto allowed =
      run({"allow", "Miner.Example.ORG", "--reason", "reviewed: the owner's own benchmark, with consent"}, db, false);
  INFO(allowed.err);
  CHECK(allowed.exit_code == 0);
  CHECK(feed(db, "hosts").find("miner.example.org") == std::string::npos);
  CHECK(feed(db, "hosts").find("coinhive.com") != std::string::npos);
  const auto adblock = feed(db, "adblock");
  CHECK(adblock.find("@@||miner.example.org^") != std::string::npos);
  CHECK(testsupport::sql(db,
                         "SELECT e.reason FROM entry_sources e JOIN sources s ON s.id = e.source_id "
                         "WHERE s.name = 'review'") == "reviewed: the owner's own benchmark, with consent\n");
  // Even a feed restricted to one source carries it.
  const auto imported_only = testsupport::run_process(
      command({"export", "--format", "hosts", "--source", "import"}, db), std::chrono::seconds(30));
  CHECK(imported_only.out.find("miner.example.org") == std::string::npos);
}

TEST_CASE("recheck: a stored page no visit may navigate to is recorded as skipped and never silently left out",
          "[recheck][cli]") {
  TempDir dir;
  const auto db = dir.path() / "r.db";
  REQUIRE(run({"allow", "example.org", "--reason", "creates the database"}, db, false).exit_code == 0);
  testsupport::sql(db,
                   "INSERT INTO blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence) "
                   "VALUES ('page', 'http://user:secret@shop9.test/', 1, 1, 1, 90);"
                   "INSERT INTO entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms) "
                   "SELECT b.id, s.id, 1, 1 FROM blacklist b, sources s WHERE s.name = 'crawl';");
  const auto recheck = run({"recheck", "--older-than", "0", "--out", "-", "-q"}, db);
  INFO(recheck.err);
  CHECK(recheck.exit_code == 0);
  CHECK(recheck.err.find("skipped") != std::string::npos);
  CHECK(recheck.out.find("\"status\":\"skipped\"") != std::string::npos);
  CHECK(testsupport::sql(db, "SELECT status FROM crawl_sites") == "skipped\n");
  CHECK(testsupport::sql(db, "SELECT state FROM crawls") == "completed\n");
  CHECK(recheck.out.find("secret") == std::string::npos);  // the line quotes the input, not its password
}
