// tests/browser/test_egress.cpp — the egress guard end to end (issue 17): the real binary and real
// sandboxed headless Chromium visit fixture pages that try every way a page reaches the crawling
// machine's loopback (IPv4 spellings, [::1], 0.0.0.0, localhost, a mapped name, another loopback
// address at an allowed port, redirects, iframes, workers, WebSockets, STUN, late navigations). A
// CanaryServer listens where they aim and counts whatever arrives: zero while only the fixture server
// is allowed, and more than zero when the same page runs with loopback allowed (the positive control:
// without it the zeros would prove nothing). Every name maps to 127.0.0.1 (*.test) or fails to
// resolve, so nothing leaves the machine.
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/canary_server.hpp"
#include "tests/support/fixture_server.hpp"
#include "tests/support/subprocess.hpp"

namespace {

using Json = nlohmann::json;
using testsupport::CanaryEndpoint;
using testsupport::CanaryServer;
using testsupport::FixtureServer;
using testsupport::TempDir;

constexpr std::chrono::seconds kRunTimeout{90};
// The host rules now live in cjcrawl: its proxy resolves every name a page asks for.
const std::string kHostRules = "MAP *.test 127.0.0.1, MAP * ~NOTFOUND";

FixtureServer& server() {
  static FixtureServer instance(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  return instance;
}

// The canary's endpoints, by index: C on 127.0.0.1 (TCP, and UDP for the STUN vector), the fixture
// server's own port on 127.0.0.2 (a port the run allows, on an address it does not), and C on
// [::1] when the host has IPv6 loopback.
constexpr std::size_t kCanaryLoopback = 0;
constexpr std::size_t kCanarySecondAddress = 1;
constexpr std::size_t kCanaryIpv6 = 2;

std::vector<CanaryEndpoint> canary_endpoints() {
  return {{.address = "127.0.0.1", .udp = true},
          {.address = "127.0.0.2", .port = server().port()},
          {.address = "::1", .port_of = kCanaryLoopback, .udp = true, .optional = true}};
}

struct CheckRun {
  testsupport::ProcessResult process;
  Json report;
};

// Only the fixture server is open. Short sampling keeps the suite fast; --no-early-stop watches a
// whole window (2 s) so that the workers' attempts and the late navigations happen within the visit
// (an idle page otherwise settles in four samples).
CheckRun check(const std::string& url, const std::filesystem::path& db, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> command = {CJCRAWL_BINARY, "check", url, "--json", "--db", db.string()};
  const std::string fixture = "127.0.0.1:" + std::to_string(server().port());
  command.insert(command.end(), {"--allow-network", fixture, "--host-resolver-rules", kHostRules});
  command.insert(command.end(), {"--sample-period", "200", "--window", "10", "--deadline", "40", "--no-early-stop"});
  command.insert(command.end(), extra.begin(), extra.end());
  CheckRun run;
  run.process = testsupport::run_process(command, kRunTimeout);
  INFO("stderr: " << run.process.err);
  REQUIRE_FALSE(run.process.timed_out);
  if (!run.process.out.empty()) run.report = Json::parse(run.process.out, nullptr, false);
  return run;
}

// The report's entry for connections to host:port that the guard refused; null when there is none.
const Json* blocked(const Json& report, const std::string& host, std::uint16_t port) {
  if (!report.contains("blocked_connections")) return nullptr;
  for (const auto& entry : report["blocked_connections"])
    if (entry["host"] == host && entry["port"] == port) return &entry;
  return nullptr;
}

// The address classes an entry names ("loopback", "unspecified", ...).
std::vector<std::string> classes_of(const Json& entry) {
  std::vector<std::string> classes;
  for (const auto& address : entry["addresses"]) classes.push_back(address["class"].get<std::string>());
  return classes;
}

std::uint64_t counter(const Json& report, const std::string& name) {
  const auto& counters = report["counters"];
  return counters.contains(name) ? counters[name].get<std::uint64_t>() : 0;
}

bool has_target(const Json& report, const std::string& type) {
  for (const auto& target : report["targets"])
    if (target["type"] == type) return true;
  return false;
}

// For a query value: every byte but the URL-unreserved ones as %XX.
std::string percent_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[byte >> 4]);
      encoded.push_back(kHex[byte & 0xF]);
    }
  }
  return encoded;
}

std::string vectors_url(const CanaryServer& canary) {
  return server().url("site.test", "/egress/vectors.html?c=" + std::to_string(canary.port(kCanaryLoopback)));
}

}  // namespace

TEST_CASE("a page trying every way to loopback reaches nothing and the report names each attempt",
          "[browser][egress]") {
  CanaryServer canary(canary_endpoints());
  const std::uint16_t c = canary.port(kCanaryLoopback);
  const std::uint16_t fixture_port = server().port();
  TempDir dir;
  auto run = check(vectors_url(canary), dir.path() / "t.db");
  INFO(run.process.out << run.process.err);
  INFO("canary:\n" << canary.describe());
  REQUIRE(run.report.is_object());
  CHECK(run.process.exit_code == 0);
  // Only subresources were refused: the page itself is fine.
  CHECK(run.report["status"] == "ok");
  CHECK(canary.total() == 0);  // no TCP connection, no STUN datagram
  // The vectors really ran: the iframe and both workers started (their scripts come from the fixture).
  CHECK(has_target(run.report, "iframe"));
  CHECK(has_target(run.report, "worker"));
  CHECK(has_target(run.report, "shared_worker"));

  // Chrome sends hosts canonicalised: 127.1, 0x7f.1, 2130706433 and 0177.0.0.1 all arrive as
  // 127.0.0.1 (one entry), [::ffff:127.0.0.1] as ::ffff:7f00:1, [::1] as ::1. Each *.test name is
  // one vector: the subresource redirect, the iframe, the workers' fetch and importScripts, a socket.
  const std::vector<std::string> expected_hosts = {
      "127.0.0.1",     "::ffff:7f00:1", "::1",         "0.0.0.0",     "localhost",   "a.localhost", "canary.test",
      "redirect.test", "iframe.test",   "worker.test", "import.test", "shared.test", "ws.test"};
  for (const auto& host : expected_hosts) {
    INFO("blocked connection to " << host << ":" << c);
    CHECK(blocked(run.report, host, c) != nullptr);
  }
  // An allowed port does not open another address.
  CHECK(blocked(run.report, "127.0.0.2", fixture_port) != nullptr);
  // Nothing the run allows was refused: the fixture server's own pages and scripts loaded.
  CHECK(blocked(run.report, "site.test", fixture_port) == nullptr);

  // What each refusal says: the addresses and their class, and a reason in words.
  if (const Json* mapped = blocked(run.report, "::ffff:7f00:1", c)) {
    CHECK(classes_of(*mapped) == std::vector<std::string>{"loopback"});  // classified by the IPv4 it carries
  }
  if (const Json* unspecified = blocked(run.report, "0.0.0.0", c)) {
    CHECK(classes_of(*unspecified) == std::vector<std::string>{"unspecified"});
  }
  if (const Json* name = blocked(run.report, "canary.test", c)) {
    REQUIRE((*name)["addresses"].size() == 1);
    CHECK((*name)["addresses"][0]["ip"] == "127.0.0.1");  // the address the host rules mapped it to
    CHECK((*name)["addresses"][0]["class"] == "loopback");
  }
  std::uint64_t attempts = 0;
  for (const auto& entry : run.report["blocked_connections"]) {
    CHECK_FALSE(entry["why"].get<std::string>().empty());
    CHECK(entry["attempts"].get<std::uint64_t>() >= 1);
    attempts += entry["attempts"].get<std::uint64_t>();
  }
  // Every refusal is counted, and (well under the bound on entries) every one is listed.
  CHECK(counter(run.report, "network_blocked") > 0);
  CHECK(counter(run.report, "network_blocked") == attempts);
}

TEST_CASE("positive control: the same page with loopback allowed reaches the canary", "[browser][egress]") {
  CanaryServer canary(canary_endpoints());
  const std::uint16_t c = canary.port(kCanaryLoopback);
  // ::1 is opened even on a host without it (its attempts then fail to connect, and are not refusals).
  const std::vector<std::string> open_loopback = {"--allow-network", "127.0.0.0/8", "--allow-network", "::1"};
  TempDir dir;
  auto run = check(vectors_url(canary), dir.path() / "t.db", open_loopback);
  INFO(run.process.out << run.process.err);
  INFO("canary:\n" << canary.describe());
  REQUIRE(run.report.is_object());
  CHECK(run.report["status"] == "ok");
  // Each listener is reachable by this page: the zeros of the other tests are the guard's doing.
  const auto counts = canary.counts();
  CHECK(counts.endpoints[kCanaryLoopback].tcp_accepts > 0);
  CHECK(counts.endpoints[kCanarySecondAddress].tcp_accepts > 0);
  if (canary.bound(kCanaryIpv6)) CHECK(counts.endpoints[kCanaryIpv6].tcp_accepts > 0);
  // STUN stays off the wire even here: Chrome sends WebRTC no UDP outside the proxy, allowed or not.
  // (So the UDP zero above has no positive control in this suite; the TCP ones do.)
  CHECK(counts.udp_datagrams == 0);
  // Loopback is open, and nothing else: 0.0.0.0 ("this host") is not in 127.0.0.0/8 and stays closed.
  const Json* unspecified = blocked(run.report, "0.0.0.0", c);
  REQUIRE(unspecified != nullptr);
  CHECK(classes_of(*unspecified) == std::vector<std::string>{"unspecified"});
  for (const auto& entry : run.report["blocked_connections"]) {
    INFO("still blocked: " << entry.dump());
    for (const auto& address_class : classes_of(entry)) CHECK(address_class != "loopback");
  }
}

TEST_CASE("a main frame on loopback is blocked whether asked for or reached by a redirect", "[browser][egress]") {
  CanaryServer canary(canary_endpoints());
  const std::uint16_t c = canary.port(kCanaryLoopback);
  const std::string canary_origin = "http://127.0.0.1:" + std::to_string(c);
  std::string url;
  SECTION("a redirect of the first load") {
    url = server().url("site.test", "/redirect-to?url=" + percent_encode(canary_origin + "/main"));
  }
  SECTION("the first load itself") { url = canary_origin + "/first"; }
  TempDir dir;
  auto run = check(url, dir.path() / "t.db");
  INFO(run.process.out << run.process.err);
  INFO("canary:\n" << canary.describe());
  REQUIRE(run.report.is_object());
  CHECK(run.process.exit_code == 1);
  CHECK(run.report["status"] == "blocked");
  // The reason names what was refused.
  CHECK(run.report["status_reason"].get<std::string>().find("127.0.0.1:" + std::to_string(c)) != std::string::npos);
  CHECK(canary.total() == 0);
  const Json* entry = blocked(run.report, "127.0.0.1", c);
  REQUIRE(entry != nullptr);
  CHECK(classes_of(*entry) == std::vector<std::string>{"loopback"});
  CHECK(counter(run.report, "network_blocked") > 0);
}

TEST_CASE("a main frame that navigates to loopback after load is refused and the visit is still ok",
          "[browser][egress]") {
  // The page loaded: only a later navigation of it (a meta refresh, location=) was refused.
  for (const std::string page : {"meta-refresh", "late-location"}) {
    DYNAMIC_SECTION(page) {
      CanaryServer canary(canary_endpoints());
      const std::uint16_t c = canary.port(kCanaryLoopback);
      TempDir dir;
      auto run =
          check(server().url("site.test", "/egress/" + page + ".html?c=" + std::to_string(c)), dir.path() / "t.db");
      INFO(run.process.out << run.process.err);
      INFO("canary:\n" << canary.describe());
      REQUIRE(run.report.is_object());
      CHECK(run.report["status"] == "ok");
      CHECK(canary.total() == 0);
      const std::string host = page == "meta-refresh" ? "refresh.test" : "location.test";
      CHECK(blocked(run.report, host, c) != nullptr);
      CHECK(counter(run.report, "network_blocked") > 0);
    }
  }
}

TEST_CASE("the check summary tells an analyst which private addresses the page tried", "[browser][egress]") {
  CanaryServer canary(canary_endpoints());
  const std::uint16_t c = canary.port(kCanaryLoopback);
  TempDir dir;
  // Without --json: the summary for a person (check's default output).
  std::vector<std::string> command = {CJCRAWL_BINARY,
                                      "check",
                                      server().url("site.test", "/egress/late-location.html?c=" + std::to_string(c)),
                                      "--db",
                                      (dir.path() / "t.db").string(),
                                      "--allow-network",
                                      "127.0.0.1:" + std::to_string(server().port()),
                                      "--host-resolver-rules",
                                      kHostRules,
                                      "--sample-period",
                                      "200",
                                      "--window",
                                      "10",
                                      "--no-early-stop"};
  const auto run = testsupport::run_process(command, kRunTimeout);
  INFO(run.out << run.err);
  REQUIRE_FALSE(run.timed_out);
  CHECK(run.out.find("Checked    yes") != std::string::npos);
  // Chrome tries a refused navigation more than once: the count is every refusal.
  CHECK(run.out.find("Refused    ") != std::string::npos);
  CHECK(run.out.find(" to private networks, which pages may not reach:") != std::string::npos);
  CHECK(run.out.find("location.test:" + std::to_string(c) + " (loopback 127.0.0.1)") != std::string::npos);
  CHECK(canary.total() == 0);
}

TEST_CASE("remote IPs are the addresses connected and an ips.txt entry still matches them", "[browser][egress]") {
  // The site on 127.0.0.3: behind the proxy Chrome itself reports the proxy's 127.0.0.1 for every
  // response, so seeing 127.0.0.3 (and only it) proves the addresses come from the proxy's connections.
  FixtureServer site(std::filesystem::path(CJCRAWL_FIXTURES) / "sites", "127.0.0.3");
  TempDir dir;
  const auto rules = dir.path() / "rules";
  std::filesystem::create_directories(rules);
  for (const char* name : {"script_urls.txt", "ws_endpoints.txt", "domains.txt", "keywords.txt"})
    std::ofstream(rules / name) << "# empty\n";
  std::ofstream(rules / "ips.txt") << "127.0.0.3\n";
  const auto run = testsupport::run_process(
      {CJCRAWL_BINARY, "check", site.url("site.test", "/idle.html"), "--json", "--db", (dir.path() / "t.db").string(),
       "--rules", rules.string(), "--allow-network", "127.0.0.3:" + std::to_string(site.port()),
       "--host-resolver-rules", "MAP *.test 127.0.0.3, MAP * ~NOTFOUND", "--sample-period", "200", "--window", "10"},
      kRunTimeout);
  INFO(run.out << run.err);
  REQUIRE_FALSE(run.timed_out);
  const auto report = Json::parse(run.out, nullptr, false);
  REQUIRE(report.is_object());
  CHECK(report["status"] == "ok");
  CHECK(report["remote_ips"] == Json::array({"127.0.0.3"}));
  bool listed = false;
  for (const auto& reason : report["reasons"]) listed = listed || reason["signal"] == "ip_listed";
  CHECK(listed);
}
