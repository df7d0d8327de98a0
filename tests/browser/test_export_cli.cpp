// tests/browser/test_export_cli.cpp — `cjcrawl export` as a user runs it: our own importer reads the
// hosts and adblock exports back with no loss, output is reproducible under SOURCE_DATE_EPOCH, and a
// compromised page (a victim) reaches the line formats only when asked for.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>

#include "tests/browser/cli_support.hpp"
#include "tests/support/subprocess.hpp"

using testsupport::cjcrawl;
using testsupport::kBlocklists;
using testsupport::sql;

TEST_CASE("hosts and adblock exports re-import with no loss", "[cli][export]") {
  testsupport::TempDir dir;
  const auto original = dir.path() / "original.db";
  REQUIRE(cjcrawl({"import", (kBlocklists / "nocoin-hosts.txt").string(), (kBlocklists / "nocoin-adblock.txt").string(),
                   "--db", original.string()})
              .exit_code == 0);
  const std::string domains_query = "SELECT value FROM blacklist WHERE kind = 'domain' ORDER BY value";

  for (const std::string format : {"hosts", "adblock"}) {
    INFO(format);
    const auto file = dir.path() / ("export." + format);
    auto exported = cjcrawl({"export", "--format", format, "--db", original.string(), "-o", file.string()});
    CHECK(exported.exit_code == 0);
    const auto copy = dir.path() / (format + ".db");
    auto reimported = cjcrawl({"import", file.string(), "--db", copy.string()});
    INFO(reimported.out << reimported.err);
    CHECK(reimported.exit_code == 0);
    CHECK(reimported.out.find(format + " (detected)") != std::string::npos);
    // Every domain comes back. (hosts also carries the hosts of socket and script patterns, which
    // come back as domains: broader, never narrower.)
    const std::string original_domains = sql(original, domains_query);
    const std::string copied_domains = sql(copy, domains_query);
    std::istringstream lines(original_domains);
    std::size_t missing = 0;
    for (std::string line; std::getline(lines, line);) missing += copied_domains.find(line + "\n") == std::string::npos;
    CHECK(missing == 0);
    CHECK_FALSE(original_domains.empty());
    if (format == "adblock") {
      // Socket endpoints, script patterns, path rules and exceptions survive as well.
      const std::string rest =
          "SELECT kind, value FROM blacklist WHERE kind != 'domain' AND kind != 'ip' ORDER BY 1, 2";
      CHECK(sql(copy, rest) == sql(original, rest));
    }
  }
}

TEST_CASE("exports are reproducible, filtered, and keep victims out of line formats", "[cli][export]") {
  testsupport::TempDir dir;
  const auto db = dir.path() / "t.db";
  REQUIRE(cjcrawl({"import", (kBlocklists / "nocoin-hosts.txt").string(), "--db", db.string()}).exit_code == 0);
  // A crawl finding: the victim page and the pool it talked to.
  sql(db,
      "INSERT INTO blacklist (kind, value, first_seen_ms, last_seen_ms, hits, confidence) VALUES "
      "('page', 'https://victim-blog.example/post', 1000, 1000, 1, 95), "
      "('domain', 'fresh-pool.example', 1000, 1000, 1, 95);"
      "INSERT INTO entry_sources (entry_id, source_id, first_listed_ms, last_listed_ms) "
      "SELECT b.id, s.id, 1000, 1000 FROM blacklist b, sources s WHERE s.name = 'crawl' "
      "AND b.value IN ('https://victim-blog.example/post', 'fresh-pool.example');");

  ::setenv("SOURCE_DATE_EPOCH", "1764115200", 1);
  auto first = cjcrawl({"export", "--format", "rpz", "--db", db.string()});
  auto second = cjcrawl({"export", "--format", "rpz", "--db", db.string()});
  ::unsetenv("SOURCE_DATE_EPOCH");
  CHECK(first.exit_code == 0);
  CHECK(first.out == second.out);
  CHECK(first.out.find("1764115200") != std::string::npos);  // the serial comes from the injected clock

  auto hosts = cjcrawl({"export", "--format", "hosts", "--db", db.string()});
  CHECK(hosts.out.find("0.0.0.0 fresh-pool.example\n") != std::string::npos);
  CHECK(hosts.out.find("victim-blog.example") == std::string::npos);
  auto with_pages = cjcrawl({"export", "--format", "hosts", "--kind", "page", "--db", db.string()});
  CHECK(with_pages.out.find("0.0.0.0 victim-blog.example\n") != std::string::npos);
  auto report = cjcrawl({"export", "--format", "jsonl", "--source", "crawl", "--db", db.string()});
  CHECK(report.out.find("victim-blog.example") != std::string::npos);  // report formats carry every kind
  CHECK(report.out.find("coinhive") == std::string::npos);             // only the crawl's own entries

  CHECK(cjcrawl({"export", "--format", "xml", "--db", db.string()}).exit_code == 2);
  CHECK(cjcrawl({"export", "--format", "hosts", "--kind", "bogus", "--db", db.string()}).exit_code == 2);
  CHECK(cjcrawl({"export", "--format", "hosts", "--since", "yesterday", "--db", db.string()}).exit_code == 2);
}
