// tests/browser/test_metrics.cpp — /metrics as a scraper meets it: the real binary, scraped over
// loopback, every exposition checked by tests/support/metrics_check.py (prometheus_client's reference
// parser plus the strict checks it skips). A crawl of fixture sites is scraped while it runs and after
// its summary (--metrics-linger keeps the port open for that), and its counts must equal the summary's;
// a worker of a shared crawl on PostgreSQL reports its queue; `serve`'s request counters must move by
// exactly the requests made.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"
#include "tests/support/pg_cluster.hpp"

namespace {

using Json = nlohmann::json;
using testsupport::TempDir;

const std::string kResolverRules =
    "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
const std::string kAllowLoopback = "--allow-network=127.0.0.1";

testsupport::FixtureServer& server() {
  static testsupport::FixtureServer instance(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  return instance;
}

struct HttpAnswer {
  std::string status_line;
  std::string headers;
  std::string body;
};

// One request on its own connection (Connection: close), read to the end; a 5 s receive deadline.
HttpAnswer http(int port, const std::string& request_bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, request_bytes.data(), request_bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request_bytes.size())) {
    char buffer[65536];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  HttpAnswer answer;
  const auto line_end = out.find("\r\n");
  const auto head_end = out.find("\r\n\r\n");
  if (line_end == std::string::npos || head_end == std::string::npos) return answer;
  answer.status_line = out.substr(0, line_end);
  answer.headers = out.substr(line_end + 2, head_end - line_end - 2);
  answer.body = out.substr(head_end + 4);
  return answer;
}

HttpAnswer get(int port, const std::string& target) {
  return http(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

// A scrape of /metrics, checked: the checker's JSON ({"families", "samples"}). Fails the test when
// the exposition is malformed.
Json scrape(int port) {
  const auto answer = get(port, "/metrics");
  REQUIRE(answer.status_line == "HTTP/1.1 200 OK");
  CHECK(answer.headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8") != std::string::npos);
  TempDir dir;
  std::ofstream(dir.path() / "metrics.txt", std::ios::binary) << answer.body;
  const auto checked = testsupport::run_process(
      {"/usr/bin/python3", CJCRAWL_FIXTURES "/../support/metrics_check.py", (dir.path() / "metrics.txt").string()},
      std::chrono::seconds(60));
  INFO(checked.err);
  INFO(answer.body.substr(0, 20'000));
  REQUIRE(checked.exit_code == 0);
  return Json::parse(checked.out);
}

// The value of sample `name` with exactly `labels`; 0 when absent (a counter never moved).
double value(const Json& scraped, const std::string& name, const Json& labels = Json::object()) {
  for (const auto& sample : scraped["samples"])
    if (sample["name"] == name && sample["labels"] == labels) return sample["value"].get<double>();
  return 0;
}

// Sample `name` summed by the value of its label `by`, zeros left out.
std::map<std::string, long> sum_by(const Json& scraped, const std::string& name, const std::string& by) {
  std::map<std::string, long> sums;
  for (const auto& sample : scraped["samples"])
    if (sample["name"] == name && sample["labels"].contains(by))
      sums[sample["labels"][by].get<std::string>()] += static_cast<long>(sample["value"].get<double>());
  std::erase_if(sums, [](const auto& entry) { return entry.second == 0; });
  return sums;
}

// "name count name count ..." → {name: count}; names with spaces ("connection lost 1") allowed when
// `separator` splits the pairs.
std::map<std::string, long> counts(const std::string& text, const std::string& separator) {
  std::map<std::string, long> out;
  if (separator == " ") {
    std::istringstream in(text);
    std::string name;
    long count = 0;
    while (in >> name >> count) out[name] = count;
    return out;
  }
  for (std::size_t start = 0; start < text.size();) {
    const auto end = std::min(text.find(separator, start), text.size());
    const std::string pair = text.substr(start, end - start);
    const auto space = pair.rfind(' ');
    if (space != std::string::npos) out[pair.substr(0, space)] = std::stol(pair.substr(space + 1));
    start = end + separator.size();
  }
  return out;
}

// The metrics port a crawl announces on stderr before any visit; 0 if it never does.
int metrics_port(testsupport::Process& crawl) {
  const std::regex announced(R"(cjcrawl: metrics on http://127\.0\.0\.1:(\d+)/metrics)");
  for (int i = 0; i < 600 && crawl.running(); ++i) {
    std::smatch match;
    const auto err = crawl.errors_so_far();
    if (std::regex_search(err, match, announced)) return std::stoi(match[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

// Waits for the line a lingering crawl prints after its summary; false if it ended first.
bool wait_for_linger(testsupport::Process& crawl) {
  for (int i = 0; i < 6000; ++i) {
    if (crawl.errors_so_far().find("the final counts stay on") != std::string::npos) return true;
    if (!crawl.running()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("metrics: a crawl scraped mid-crawl and after its summary agrees with the summary",
          "[metrics][crawl][browser]") {
  TempDir dir;
  // Sites of every kind of ending: clean, a miner, an HTTP error, a DNS error; --recycle-after 2
  // replaces browsers on the way.
  std::string list;
  for (int i = 1; i <= 3; ++i) list += server().url("site.test", "/idle.html?n=" + std::to_string(i)) + "\n";
  list += server().url("site.test", "/worker-miner.html") + "\n";
  list += server().url("site.test", "/no-such-page.html") + "\n";
  list += "http://nowhere.invalid/\n";
  std::ofstream(dir.path() / "list.txt") << list;
  constexpr int kConcurrency = 2;
  testsupport::Process crawl({CJCRAWL_BINARY,
                              "crawl",
                              (dir.path() / "list.txt").string(),
                              "--db",
                              (dir.path() / "c.db").string(),
                              "--out",
                              (dir.path() / "out.jsonl").string(),
                              "--sample-period",
                              "200",
                              "--window",
                              "10",
                              "--deadline",
                              "30",
                              "--concurrency",
                              std::to_string(kConcurrency),
                              "--recycle-after",
                              "2",
                              "--metrics-listen",
                              "127.0.0.1:0",
                              "--metrics-linger",
                              "30",
                              kResolverRules,
                              kAllowLoopback});

  // The port, from the line the crawl prints before any visit.
  const int port = metrics_port(crawl);
  INFO(crawl.errors_so_far());
  REQUIRE(port != 0);
  const auto health = get(port, "/healthz");
  CHECK(health.status_line == "HTTP/1.1 200 OK");
  CHECK(Json::parse(health.body, nullptr, false) == Json{{"status", "ok"}});
  CHECK(get(port, "/feed/hosts").status_line == "HTTP/1.1 404 Not Found");  // a worker serves no feed

  // Mid-crawl: scrapes while visits run are well-formed, and never show more visits than slots. Scraped
  // until one shows a visit in flight before the summary is printed (a visit takes seconds of CPU
  // samples, so many scrapes fall inside one).
  bool saw_in_flight = false;
  for (int i = 0; i < 1200 && !saw_in_flight; ++i) {
    REQUIRE(crawl.errors_so_far().find("cjcrawl: browsers:") == std::string::npos);
    const auto scraped = scrape(port);
    const double in_flight = value(scraped, "cjcrawl_visits_in_flight");
    CHECK(in_flight <= kConcurrency);
    CHECK(value(scraped, "cjcrawl_slots", {{"state", "running"}}) <= kConcurrency);
    saw_in_flight = in_flight >= 1;
    if (!saw_in_flight) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(saw_in_flight);

  // After the summary: --metrics-linger keeps the port open; the line saying so comes after it.
  REQUIRE(wait_for_linger(crawl));
  const std::string err = crawl.errors_so_far();
  INFO(err);
  std::smatch summary;
  REQUIRE(
      std::regex_search(err, summary,
                        std::regex(R"(cjcrawl: crawl \d+ completed: (\d+) site\(s\) recorded[^;]*;((?: \S+ \d+)+); )"
                                   R"(status:((?: \S+ \d+)+)\n)")));
  std::smatch browsers;
  REQUIRE(std::regex_search(err, browsers, std::regex(R"(cjcrawl: browsers: (\d+) launched; replaced: ([^\n]+)\n)")));
  const auto scraped = scrape(port);
  CHECK(value(scraped, "cjcrawl_visits_in_flight") == 0);
  CHECK(value(scraped, "cjcrawl_slots", {{"state", "running"}}) == 0);
  CHECK(value(scraped, "cjcrawl_slots", {{"state", "stopped"}}) == 0);
  CHECK(value(scraped, "cjcrawl_sites_not_checked_total") == 0);
  CHECK(value(scraped, "cjcrawl_crawl_info", {{"crawl_id", "1"}, {"name", ""}}) == 1);
  // The sums by verdict and by status are the summary's.
  const auto by_verdict = sum_by(scraped, "cjcrawl_sites_recorded_total", "verdict");
  const auto by_status = sum_by(scraped, "cjcrawl_sites_recorded_total", "status");
  CHECK(by_verdict == counts(summary[2], " "));
  CHECK(by_status == counts(summary[3], " "));
  long recorded = 0;
  for (const auto& [verdict, count] : by_verdict) recorded += count;
  CHECK(recorded == std::stol(summary[1]));
  CHECK(recorded == 6);
  CHECK(by_verdict.at("cryptojacking") == 1);
  CHECK(by_status.at("http_error") == 1);
  CHECK(by_status.at("dns_error") == 1);
  // Launches and replacements by why are the browsers line's.
  CHECK(value(scraped, "cjcrawl_browser_launches_total") == std::stod(browsers[1]));
  std::map<std::string, long> replaced;
  if (browsers[2] != "none")
    for (const auto& [why, count] : counts(browsers[2], ", ")) {
      std::string label = why;
      std::replace(label.begin(), label.end(), ' ', '_');
      replaced[label] = count;
    }
  CHECK(sum_by(scraped, "cjcrawl_browser_replacements_total", "why") == replaced);
  CHECK(replaced.count("sites") == 1);  // --recycle-after 2 over 3 sites a slot, at least
  // One commit observed per site recorded (no busy retries against a private database).
  CHECK(value(scraped, "cjcrawl_commit_duration_seconds_count") == 6);
  CHECK(value(scraped, "cjcrawl_commit_duration_seconds_bucket", {{"le", "+Inf"}}) == 6);
  CHECK(value(scraped, "cjcrawl_chrome_pss_bytes", {{"slot", "1"}}) > 10e6);  // a Chrome's tree: tens of MB at least
  CHECK(value(scraped, "process_resident_memory_bytes") > 0);

  // SIGTERM ends the linger at once, and the crawl's exit code stands.
  const auto signalled = std::chrono::steady_clock::now();
  crawl.signal(SIGTERM);
  const auto result = crawl.wait(std::chrono::seconds(60));
  CHECK(result.exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - signalled < std::chrono::seconds(25));  // not the 30 s linger
}

TEST_CASE("metrics: a worker of a shared crawl on PostgreSQL reports its queue and its leases",
          "[metrics][fleet][browser]") {
  auto& cluster = testsupport::PgCluster::shared();
  const auto database = cluster.create_database();
  TempDir dir;
  constexpr int kSites = 5;
  std::string list;
  for (int i = 1; i <= kSites; ++i) list += server().url("site.test", "/idle.html?n=" + std::to_string(i)) + "\n";
  std::ofstream(dir.path() / "list.txt") << list;
  testsupport::Process crawl({CJCRAWL_BINARY,
                              "crawl",
                              (dir.path() / "list.txt").string(),
                              "--db",
                              cluster.uri(database),
                              "--crawl",
                              "metered",
                              "--out",
                              (dir.path() / "out.jsonl").string(),
                              "--sample-period",
                              "200",
                              "--window",
                              "10",
                              "--deadline",
                              "30",
                              "--concurrency",
                              "2",
                              "--metrics-listen",
                              ":0",
                              "--metrics-linger",
                              "30",
                              kResolverRules,
                              kAllowLoopback});
  const int port = metrics_port(crawl);  // ":0" is loopback
  INFO(crawl.errors_so_far());
  REQUIRE(port != 0);
  // While it runs: the queue's done count never goes down, and this worker never holds more leases
  // than slots.
  double done = 0;
  while (crawl.running() && crawl.errors_so_far().find("the final counts stay on") == std::string::npos) {
    const auto scraped = scrape(port);
    const double now_done = value(scraped, "cjcrawl_queue_sites", {{"state", "done"}});
    CHECK(now_done >= done);
    done = now_done;
    CHECK(value(scraped, "cjcrawl_leases_held") <= 2);
    CHECK(value(scraped, "cjcrawl_visits_in_flight") <= 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(wait_for_linger(crawl));
  const auto scraped = scrape(port);
  // As the worker left the queue: every site done, none waiting or leased, one attempt each.
  CHECK(value(scraped, "cjcrawl_queue_sites", {{"state", "done"}}) == kSites);
  CHECK(value(scraped, "cjcrawl_queue_sites", {{"state", "queued"}}) == 0);
  CHECK(value(scraped, "cjcrawl_queue_sites", {{"state", "leased"}}) == 0);
  CHECK(value(scraped, "cjcrawl_queue_sites", {{"state", "failed"}}) == 0);
  CHECK(value(scraped, "cjcrawl_queue_attempts") == kSites);
  CHECK(value(scraped, "cjcrawl_leases_held") == 0);
  CHECK(value(scraped, "cjcrawl_leases_lost_total") == 0);
  CHECK(value(scraped, "cjcrawl_database_unreachable") == 0);
  CHECK(value(scraped, "cjcrawl_sites_released_total") == 0);
  CHECK(value(scraped, "cjcrawl_sites_recorded_total", {{"verdict", "clean"}, {"status", "ok"}}) == kSites);
  std::string crawl_id = cluster.psql("SELECT id FROM crawls WHERE name = 'metered'", database);
  std::erase_if(crawl_id, [](char c) { return c == '\n' || c == ' '; });
  CHECK(value(scraped, "cjcrawl_crawl_info", {{"crawl_id", crawl_id}, {"name", "metered"}}) == 1);
  crawl.signal(SIGTERM);
  const auto result = crawl.wait(std::chrono::seconds(60));
  CHECK(result.exit_code == 0);
  CHECK(result.err.find(testsupport::PgCluster::kPassword) == std::string::npos);
}

TEST_CASE("metrics: crawl refuses a bad --metrics-listen and a --metrics-linger out of range or alone before any work",
          "[metrics][crawl][browser]") {
  TempDir dir;
  std::ofstream(dir.path() / "list.txt") << "http://site.test/\n";
  const auto db = (dir.path() / "c.db").string();
  const auto bad_address = testsupport::cjcrawl(
      {"crawl", (dir.path() / "list.txt").string(), "--db", db, "--metrics-listen", "example.org:1"});
  CHECK(bad_address.exit_code == 2);
  CHECK(bad_address.err.find("--metrics-listen example.org:1: example.org is not an IP address") != std::string::npos);
  const auto bad_linger =
      testsupport::cjcrawl({"crawl", (dir.path() / "list.txt").string(), "--db", db, "--metrics-linger", "601"});
  CHECK(bad_linger.exit_code == 2);
  CHECK(bad_linger.err.find("--metrics-linger") != std::string::npos);
  const auto linger_alone =
      testsupport::cjcrawl({"crawl", (dir.path() / "list.txt").string(), "--db", db, "--metrics-linger", "5"});
  CHECK(linger_alone.exit_code == 2);
  CHECK(linger_alone.err.find("--metrics-linger keeps the metrics port open: it needs --metrics-listen") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(db));  // refused before the database was touched
}

TEST_CASE("metrics: serve's request counters move by exactly the requests made", "[metrics][serve]") {
  TempDir dir;
  const auto db = dir.path() / "feed.db";
  REQUIRE(
      testsupport::cjcrawl({"import", "--db", db.string(), (testsupport::kBlocklists / "nocoin-adblock.txt").string()})
          .exit_code == 0);
  testsupport::Process serve({CJCRAWL_BINARY, "serve", "--db", db.string(), "--listen", "127.0.0.1:0"});
  int port = 0;
  const std::regex address(R"(http://127\.0\.0\.1:(\d+)/)");
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::smatch match;
    const auto out = serve.output_so_far();
    if (std::regex_search(out, match, address)) port = std::stoi(match[1]);
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(port != 0);

  const auto before = scrape(port);
  // The requests: a feed rendered, the same feed from the cache, its revalidation, the API, the health
  // check, an unknown path, and a request that is not HTTP.
  const auto first = get(port, "/feed/hosts");
  REQUIRE(first.status_line == "HTTP/1.1 200 OK");
  CHECK(get(port, "/feed/hosts").status_line == "HTTP/1.1 200 OK");
  std::smatch etag;
  REQUIRE(std::regex_search(first.headers, etag, std::regex("ETag: (\"[^\"]+\")")));
  CHECK(http(port,
             "GET /feed/hosts HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag[1].str() + "\r\nConnection: close\r\n\r\n")
            .status_line == "HTTP/1.1 304 Not Modified");
  CHECK(get(port, "/api/entries?limit=2").status_line == "HTTP/1.1 200 OK");
  const auto health = get(port, "/healthz");
  REQUIRE(health.status_line == "HTTP/1.1 200 OK");
  CHECK(get(port, "/no/such/page").status_line == "HTTP/1.1 404 Not Found");
  CHECK(http(port, "\x16\x03\x01 not http\r\n\r\n").status_line == "HTTP/1.1 400 Bad Request");
  const auto after = scrape(port);

  const auto moved = [&](const std::string& name, const Json& labels) {
    return value(after, name, labels) - value(before, name, labels);
  };
  CHECK(moved("cjcrawl_http_requests_total", {{"route", "feed"}}) == 3);
  CHECK(moved("cjcrawl_http_requests_total", {{"route", "api_entries"}}) == 1);
  CHECK(moved("cjcrawl_http_requests_total", {{"route", "healthz"}}) == 1);
  CHECK(moved("cjcrawl_http_requests_total", {{"route", "other"}}) == 1);
  CHECK(moved("cjcrawl_http_requests_total", {{"route", "metrics"}}) == 1);  // the first scrape
  CHECK(moved("cjcrawl_http_request_duration_seconds_count", {{"route", "feed"}}) == 3);
  CHECK(moved("cjcrawl_http_responses_total", {{"code", "200"}}) == 5);
  CHECK(moved("cjcrawl_http_responses_total", {{"code", "304"}}) == 1);
  CHECK(moved("cjcrawl_http_responses_total", {{"code", "404"}}) == 1);
  CHECK(moved("cjcrawl_http_responses_total", {{"code", "400"}}) == 1);
  // Each request on its own connection: the seven, and the second scrape's.
  CHECK(moved("cjcrawl_http_connections_accepted_total", Json::object()) == 8);
  CHECK(moved("cjcrawl_feed_renders_total", Json::object()) == 1);
  CHECK(moved("cjcrawl_feed_not_modified_total", Json::object()) == 1);
  // The generation is /healthz's; the entries are the database's.
  const auto healthz = Json::parse(health.body);
  CHECK(value(after, "cjcrawl_blacklist_generation") == healthz["generation"].get<double>());
  const auto domains = testsupport::sql(db,
                                        "SELECT count(*) FROM blacklist b WHERE kind = 'domain' AND EXISTS (SELECT 1 "
                                        "FROM entry_sources e WHERE e.entry_id = b.id AND e.removed_ms IS NULL)");
  INFO(domains);
  CHECK(value(after, "cjcrawl_blacklist_active_entries", {{"kind", "domain"}}) == std::stod(domains));
  CHECK(value(after, "cjcrawl_visits", {{"verdict", "all"}}) == 0);

  serve.signal(SIGTERM);
  CHECK(serve.wait(std::chrono::seconds(10)).exit_code == 0);
}
