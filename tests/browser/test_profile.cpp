// tests/browser/test_profile.cpp — the visit as a visitor: what a page and its worker see of the
// browser (a desktop Chrome by default: no "HeadlessChrome", navigator.webdriver false, a 1920×1080
// screen; Chrome's own headless identity only with --headless-profile; the fixture page reports what
// it sees in a WebSocket frame, which the evidence stores), and the late starters: a miner waiting
// for a gesture (caught by the synthetic interaction) and one starting after an idle spell (caught
// by watching on a weak signal), each missed when its flag turns the behaviour off.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/browser/cli_support.hpp"
#include "tests/support/fixture_server.hpp"

namespace {

using Json = nlohmann::json;

Json check(const std::string& page, const std::vector<std::string>& extra) {
  static testsupport::FixtureServer server(std::filesystem::path(CJCRAWL_FIXTURES) / "sites");
  testsupport::TempDir dir;  // a fresh database: nothing known from an earlier case
  std::vector<std::string> argv{
      "check",
      server.url("site.test", page),
      "--json",
      "--db",
      (dir.path() / "p.db").string(),
      "--sample-period",
      "200",
      "--window",
      "10",
      "--chrome-arg=--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--allow-network=127.0.0.1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto run = testsupport::cjcrawl(argv);
  INFO(run.err);
  const auto report = Json::parse(run.out, nullptr, false);
  REQUIRE(report.is_object());
  return report;
}

Json what_the_page_saw(const std::vector<std::string>& extra) {
  const auto report = check("/profile.html", extra);
  REQUIRE(report["websockets"].size() == 1);
  REQUIRE(report["websockets"][0]["frames"].size() >= 1);
  return Json::parse(report["websockets"][0]["frames"][0]["payload"].get<std::string>());
}

}  // namespace

TEST_CASE("pages and workers see a desktop Chrome, not headless automation", "[browser][profile]") {
  const auto seen = what_the_page_saw({});
  INFO(seen.dump());
  const std::string ua = seen["ua"];
  CHECK(ua.find("HeadlessChrome") == std::string::npos);
  CHECK(ua.find(" Chrome/") != std::string::npos);
  CHECK(seen["webdriver"] == false);
  CHECK(seen["screen"] == Json::array({1920, 1080}));
  CHECK(seen["worker"]["ua"] == ua);
  CHECK(seen["cores"].get<int>() >= 1);
  CHECK(seen["worker"]["cores"] == seen["cores"]);
}

TEST_CASE("the headless-profile flag shows Chrome's own headless identity", "[browser][profile]") {
  const auto seen = what_the_page_saw({"--headless-profile"});
  CHECK(seen["ua"].get<std::string>().find("HeadlessChrome") != std::string::npos);
  CHECK(seen["webdriver"] == true);
}

TEST_CASE("a miner that waits for the visitor's first gesture is caught by the synthetic interaction",
          "[browser][profile]") {
  const auto caught = check("/interaction-miner.html", {});
  CHECK(caught["verdict"] == "cryptojacking");
  CHECK(caught["counters"]["interaction_dispatched"] == 1);
  const auto missed = check("/interaction-miner.html", {"--no-interaction"});
  CHECK(missed["verdict"] == "clean");
  CHECK_FALSE(missed["counters"].contains("interaction_dispatched"));
}

TEST_CASE("a worker with a socket that starts mining after an idle spell is watched until it does",
          "[browser][profile]") {
  const auto caught = check("/late-worker-miner.html", {"--deadline", "20"});
  CHECK(caught["verdict"] == "cryptojacking");
  CHECK(caught["counters"]["watched_past_window"] == 1);
  // (Without a profile as well: a profile taken when the worker's first busy interval shows holds
  // the verdict back for its 1.5 s, long enough to see the job this contrast is about.)
  const auto missed = check("/late-worker-miner.html", {"--deadline", "20", "--no-late-watch", "--no-profile"});
  CHECK(missed["verdict"] == "clean");
  // No watching on the weak signal. (The visit may still sample up to 3 s after the worker attached:
  // a target that attaches after load is given time to start; see kSettleAfterAttach.)
  CHECK_FALSE(missed["counters"].contains("watched_past_window"));
}
