// tests/browser/test_egress_rebinding.cpp — DNS rebinding against the egress guard, in real Chromium.
// A name resolves first to the allowed fixture server and then to a canary on another loopback
// address (the proxy's resolver scripted by CJCRAWL_TEST_RESOLVE_SEQUENCE, as a rebinding server with a
// zero TTL would answer). Every connection is resolved and checked anew, so the canary counts nothing;
// with the canary's address opened, the same page reaches it (the positive control).
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/canary_server.hpp"
#include "tests/support/fixture_server.hpp"
#include "tests/support/subprocess.hpp"

namespace {

using Json = nlohmann::json;

struct Run {
  testsupport::ProcessResult process;
  Json report;
};

// One check of egress/rebind.html with rebind.example scripted to 127.0.0.1, then 127.0.0.2.
Run check_rebinding(const testsupport::FixtureServer& site, const std::string& allow) {
  testsupport::TempDir dir;
  ::setenv("CJCRAWL_TEST_RESOLVE_SEQUENCE", "rebind.example=127.0.0.1,127.0.0.2", 1);
  Run run;
  run.process = testsupport::run_process(
      {CJCRAWL_BINARY, "check", site.url("site.test", "/egress/rebind.html"), "--json", "--db",
       (dir.path() / "t.db").string(), "--sample-period", "200", "--window", "25", "--deadline", "40",
       // rebind.example is left to the proxy's (scripted) resolver; every other name is mapped.
       "--host-resolver-rules", "MAP *.test 127.0.0.1, EXCLUDE rebind.example, MAP * ~NOTFOUND",
       "--allow-network=" + allow},
      std::chrono::seconds(90));
  ::unsetenv("CJCRAWL_TEST_RESOLVE_SEQUENCE");
  INFO("stderr: " << run.process.err);
  REQUIRE_FALSE(run.process.timed_out);
  run.report = Json::parse(run.process.out, nullptr, false);
  REQUIRE(run.report.is_object());
  return run;
}

// The report's WebSockets to rebind.example, in the order opened: whether each completed its handshake.
std::vector<bool> rebind_sockets(const Json& report) {
  std::vector<bool> opened;
  for (const auto& socket : report["websockets"])
    if (socket["url"].get<std::string>().find("rebind.example") != std::string::npos)
      opened.push_back(socket.value("handshake_status", 0) == 101);
  return opened;
}

}  // namespace

TEST_CASE("a name that rebinds from the allowed site to another loopback address never reaches it",
          "[browser][egress]") {
  testsupport::FixtureServer site(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  // The canary: 127.0.0.2 at the fixture server's own port (an allowed port, another address).
  testsupport::CanaryServer canary({{"127.0.0.2", site.port()}});
  const auto run = check_rebinding(site, "127.0.0.1:" + std::to_string(site.port()));
  INFO(run.process.out);
  INFO(canary.describe());
  CHECK(run.report["status"] == "ok");
  // All three sockets were tried within the visit: the first reached the fixture, the others not.
  CHECK(rebind_sockets(run.report) == std::vector<bool>{true, false, false});
  CHECK(canary.total() == 0);
  bool recorded = false;
  for (const auto& blocked : run.report["blocked_connections"])
    if (blocked["host"] == "rebind.example" && blocked["port"] == site.port()) {
      recorded = true;
      CHECK(blocked["addresses"][0]["ip"] == "127.0.0.2");
      CHECK(blocked["addresses"][0]["class"] == "loopback");
      CHECK(blocked["attempts"].get<int>() >= 2);
    }
  CHECK(recorded);
}

TEST_CASE("the rebinding page reaches the canary once its address is opened (positive control)", "[browser][egress]") {
  testsupport::FixtureServer site(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  testsupport::CanaryServer canary({{"127.0.0.2", site.port()}});
  const auto run = check_rebinding(site, "127.0.0.0/8");
  INFO(run.process.out);
  INFO(canary.describe());
  CHECK(run.report["status"] == "ok");
  CHECK(rebind_sockets(run.report).size() == 3);
  CHECK(canary.total() >= 2);  // the second and third sockets, accepted and closed by the canary
  CHECK(run.report["blocked_connections"].empty());
}
