// tests/unit/test_visit.cpp — one visit (crawler::visit and its parts) against a scripted Chrome, no
// process: what the evidence holds and when the visit settles for idle, busy and mining sites; a
// navigation that fails or downloads; crashes and a lost browser; scripts read, deduplicated, cached
// and bounded; targets over the cap; the popup's second look; dialogs; and one browser serving two
// visits. Sampling is 20 ms × 5, so each case runs in well under a second unless it waits for a
// target's settle period (3 s) on purpose.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "blacklist/detector.hpp"
#include "blacklist/rules.hpp"
#include "blacklist/scan_cache.hpp"
#include "crawler/visit.hpp"
#include "tests/support/fake_chrome.hpp"
#include "tests/support/io_helpers.hpp"
#include "util/worker.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using blacklist::Status;
using blacklist::Verdict;
using testsupport::FakeChrome;
using testsupport::FakeLauncher;
using Navigation = FakeChrome::Navigation;
using Target = FakeChrome::Target;

const blacklist::Detector& detector() {
  static const blacklist::Detector instance = [] {
    auto loaded = blacklist::Rules::load(CJCRAWL_SOURCE_RULES);
    REQUIRE(loaded.problems.empty());
    return blacklist::Detector(std::move(loaded.rules));
  }();
  return instance;
}

crawler::VisitOptions options_for(FakeLauncher& launcher) {
  crawler::VisitOptions options;
  options.browser_factory = launcher.factory();
  options.site_deadline = 8s;
  options.load_timeout = 1s;
  options.sample_period = 20ms;
  options.cpu_rule.window = 5;
  options.cpu_rule.ratio = 0.8;
  options.cpu_rule.threshold_percent = 50;
  options.detector = &detector();
  options.interact = false;
  return options;
}

struct Run {
  crawler::VisitOutcome outcome;
  blacklist::Judgement judgement;
};

// Visits `url` in `browser` (launched by the options' factory when null) and judges it.
Run visit_in(asio::io_context& io, std::shared_ptr<cdp::Browser>& browser, const crawler::VisitOptions& options,
             std::string url = "http://site.test/") {
  auto outcome = testsupport::spawn_for_result(io, crawler::visit(browser, url, url, options));
  REQUIRE(testsupport::run_until(
      io, [&] { return outcome->has_value(); }, 30s));
  Run run{std::move(**outcome), {}};
  run.judgement = detector().judge(run.outcome.evidence, options.cpu_rule, run.outcome.cpu);
  return run;
}

// Closes `browser` (Browser.close, the connection's end), as a slot does after its last site.
void close(asio::io_context& io, std::shared_ptr<cdp::Browser>& browser) {
  if (!browser) return;
  auto closing = testsupport::spawn_for_result(io, [](std::shared_ptr<cdp::Browser> b) -> asio::awaitable<bool> {
    co_await b->close();
    co_return true;
  }(browser));
  testsupport::run_until(io, [&] { return closing->has_value(); });
  browser.reset();
}

// A visit in a browser of its own, closed afterwards (as `cjcrawl check` does).
Run visit_once(FakeLauncher& launcher, std::function<void(crawler::VisitOptions&)> adjust = nullptr) {
  asio::io_context io;
  auto options = options_for(launcher);
  if (adjust) adjust(options);
  std::shared_ptr<cdp::Browser> browser;
  auto run = visit_in(io, browser, options);
  close(io, browser);
  return run;
}

std::uint64_t counter(const blacklist::Evidence& evidence, const std::string& name) {
  const auto it = evidence.counters.find(name);
  return it == evidence.counters.end() ? 0 : it->second;
}

bool has_reason(const blacklist::Judgement& judgement, const std::string& signal) {
  return std::any_of(judgement.reasons.begin(), judgement.reasons.end(), [&](const blacklist::Reason& reason) {
    return reason.signal == signal && reason.strength != "info";
  });
}

const std::string kBlob(152, 'a');
const std::string kAuth = R"({"type":"auth","params":{"site_key":"k","type":"anonymous","user":null,"goal":0}})";
const std::string kJob = R"({"type":"job","params":{"job_id":"1","blob":")" + kBlob + R"(","target":"ffffff00"}})";
const std::string kSubmit =
    R"({"type":"submit","params":{"job_id":"1","nonce":"a1b2c3d4","result":")" + std::string(64, 'b') + R"("}})";

}  // namespace

TEST_CASE("visit: an idle page is ok and clean, settles early, and its context is disposed of", "[visit]") {
  FakeLauncher launcher([](FakeChrome&, const Target&, const std::string&) { return Navigation{}; });
  const auto run = visit_once(launcher);
  const auto& evidence = run.outcome.evidence;
  CHECK(run.outcome.tool_error.empty());
  CHECK(evidence.status == Status::ok);
  CHECK(run.judgement.verdict == Verdict::clean);
  CHECK(evidence.http_status == 200);
  CHECK(evidence.final_url == "http://site.test/");
  CHECK(evidence.remote_ips == std::vector<std::string>{"127.0.0.1"});
  REQUIRE(evidence.targets.size() == 1);
  CHECK(evidence.targets[0].type == "page");
  // Settled as soon as the CPU rule could no longer fire: far from the 8 s deadline.
  CHECK(evidence.cpu_samples.size() >= 2);
  CHECK(evidence.cpu_samples.size() < 20);
  CHECK(run.outcome.cpu.decision == blacklist::CpuDecision::cannot_fire);
  CHECK(run.outcome.browser_launched);
  CHECK(run.outcome.browser_retired.empty());
  REQUIRE(launcher.launched() == 1);
  CHECK(launcher.chromes()[0]->contexts_created() == 1);
  CHECK(launcher.chromes()[0]->contexts_disposed() == 1);
  // Downloads were denied in the site's context before anything ran.
  const auto deny = launcher.chromes()[0]->commands("Browser.setDownloadBehavior");
  REQUIRE(deny.size() == 1);
  CHECK(deny[0]["params"]["behavior"] == "deny");
}

TEST_CASE("visit: a page that keeps a core busy with no other signal is suspicious, CPU alone", "[visit]") {
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
    chrome.set_busy(page.renderer_pid, 1.0);
    return Navigation{};
  });
  const auto run = visit_once(launcher);
  CHECK(run.outcome.evidence.status == Status::ok);
  CHECK(run.outcome.cpu.decision == blacklist::CpuDecision::fired);
  CHECK(run.judgement.verdict == Verdict::suspicious);
  CHECK(has_reason(run.judgement, "cpu_rule"));
}

TEST_CASE("visit: a worker mining over its own socket is cryptojacking, its script and frames recorded", "[visit]") {
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
    const auto worker = chrome.attach(page, "worker", "http://site.test/miner.js");
    chrome.set_busy(page.renderer_pid, 1.0);
    chrome.after(30ms, [chrome = &chrome, worker] {
      chrome->script(worker, "http://site.test/miner.js",
                     "var miner = new CoinHive.Anonymous('key'); miner.start(); miner.getHashesPerSecond();");
      chrome->websocket(worker, "ws1", "ws://pool.test/ws/pool");
      chrome->frame(worker, "ws1", kAuth, true);
      chrome->frame(worker, "ws1", kJob, false);
      chrome->frame(worker, "ws1", kSubmit, true);
    });
    return Navigation{};
  });
  const auto run = visit_once(launcher);
  const auto& evidence = run.outcome.evidence;
  CHECK(evidence.status == Status::ok);
  CHECK(run.judgement.verdict == Verdict::cryptojacking);
  CHECK(has_reason(run.judgement, "pool_protocol"));
  REQUIRE(evidence.websockets.size() == 1);
  const auto& socket = evidence.websockets[0];
  CHECK(socket.url == "ws://pool.test/ws/pool");
  CHECK(socket.target_type == "worker");
  CHECK(socket.pool.confirmed);
  CHECK(socket.frames_sent == 2);
  CHECK(socket.frames_received == 1);
  CHECK(socket.frames.size() == 3);
  REQUIRE(evidence.scripts.size() == 1);
  CHECK(evidence.scripts[0].source_state == "fetched");
  CHECK(evidence.scripts[0].keyword_miner);
  CHECK(evidence.scripts[0].target_type == "worker");
  // Conclusive evidence settles after a short confirming trace, long before the deadline.
  CHECK(evidence.elapsed_ms < 4'000);
}

TEST_CASE("visit: a navigation that fails is the site's status, and nothing is sampled", "[visit]") {
  SECTION("a name that does not resolve") {
    FakeLauncher launcher([](FakeChrome&, const Target&, const std::string&) {
      Navigation navigation;
      navigation.error_text = "net::ERR_NAME_NOT_RESOLVED";
      return navigation;
    });
    const auto run = visit_once(launcher);
    CHECK(run.outcome.evidence.status == Status::dns_error);
    CHECK(run.outcome.evidence.status_reason == "net::ERR_NAME_NOT_RESOLVED");
    CHECK(run.outcome.evidence.cpu_samples.empty());
    CHECK(run.outcome.browser_retired.empty());  // the browser is fine: the site's answer
  }
  SECTION("a URL that is itself a download is ok, not a page") {
    FakeLauncher launcher([](FakeChrome&, const Target&, const std::string&) {
      Navigation navigation;
      navigation.error_text = "net::ERR_ABORTED";
      navigation.is_download = true;
      navigation.mime_type = "application/octet-stream";
      return navigation;
    });
    const auto run = visit_once(launcher);
    CHECK(run.outcome.evidence.status == Status::ok);
    CHECK(run.outcome.evidence.status_reason ==
          "not a page: HTTP 200 application/octet-stream was not rendered (a download)");
    CHECK(counter(run.outcome.evidence, "not_a_page") == 1);
    CHECK(run.judgement.verdict == Verdict::clean);
  }
  SECTION("an error page is still analysed, with its status") {
    FakeLauncher launcher([](FakeChrome&, const Target&, const std::string&) {
      Navigation navigation;
      navigation.http_status = 404;
      return navigation;
    });
    const auto run = visit_once(launcher);
    CHECK(run.outcome.evidence.status == Status::http_error);
    CHECK(run.outcome.evidence.status_reason == "HTTP 404");
    CHECK(run.outcome.evidence.cpu_samples.size() >= 2);
  }
}

TEST_CASE("visit: a renderer crash or a lost browser ends the visit and retires the browser", "[visit]") {
  SECTION("the page's renderer crashes during sampling") {
    FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
      chrome.set_busy(page.renderer_pid, 1.0);  // keeps the visit sampling
      chrome.after(60ms, [chrome = &chrome, page] { chrome->crash(page); });
      return Navigation{};
    });
    const auto run = visit_once(launcher);
    CHECK(run.outcome.evidence.status == Status::crash);
    CHECK(run.outcome.browser_retired == "crash");
  }
  SECTION("the browser goes away during sampling") {
    FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
      chrome.set_busy(page.renderer_pid, 1.0);
      chrome.after(60ms, [chrome = &chrome] { chrome->end_connection(); });
      return Navigation{};
    });
    const auto run = visit_once(launcher);
    CHECK(run.outcome.evidence.status == Status::crash);
    CHECK(run.outcome.evidence.status_reason == "browser connection lost during sampling");
    CHECK(run.outcome.browser_retired == "connection lost");
  }
  SECTION("Chrome cannot be launched") {
    FakeLauncher launcher(nullptr);
    launcher.fail = true;
    const auto run = visit_once(launcher);
    CHECK(run.outcome.tool_error == "no usable Chrome (a test's choice)");
    CHECK_FALSE(run.outcome.browser_launched);
  }
}

TEST_CASE("visit: scripts are read once per content, bounded, and a gone target's source is 'gone'", "[visit]") {
  const std::string library = "function add(a, b) { return a + b; }";
  FakeLauncher launcher([&](FakeChrome& chrome, const Target& page, const std::string&) {
    chrome.script(page, "http://site.test/lib.js", library);
    chrome.script(page, "http://cdn.test/lib-copy.js", library);             // same content
    chrome.script(page, "http://site.test/big.js", std::string(4096, 'x'));  // over the cap below
    const auto worker = chrome.attach(page, "worker", "http://site.test/w.js");
    chrome.script(worker, "http://site.test/w.js", "postMessage(1);");
    chrome.peer().event("Target.detachedFromTarget", {{"sessionId", worker.session_id}, {"targetId", worker.target_id}},
                        page.session_id);  // the worker ended before its source was read
    return Navigation{};
  });
  const auto run =
      visit_once(launcher, [](crawler::VisitOptions& options) { options.limits.max_script_source_bytes = 1024; });
  const auto& scripts = run.outcome.evidence.scripts;
  REQUIRE(scripts.size() == 4);
  CHECK(scripts[0].source_state == "fetched");
  CHECK(scripts[1].source_state == "duplicate");
  CHECK(scripts[2].source_state == "oversize");
  CHECK(scripts[3].source_state == "gone");
  CHECK(counter(run.outcome.evidence, "source_target_gone") == 1);
  // Exactly one read: the duplicate and the oversize one never left Chrome, and the call for the
  // ended worker's source failed before it was sent (its session was gone).
  CHECK(launcher.chromes()[0]->commands("Debugger.getScriptSource").size() == 1);
}

TEST_CASE("visit: findings are the same whether sources are scanned on the loop or off it, and cached", "[visit]") {
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
    chrome.script(page, "http://site.test/m.js", "new CoinHive.Anonymous('key').start(); // getHashesPerSecond");
    return Navigation{};
  });
  util::WorkerThread scanner;
  blacklist::ScanCache cache(16);
  // (Miner keywords alone keep a visit watching to its deadline, for late starters: a short one.)
  const auto on_loop = visit_once(launcher, [&](crawler::VisitOptions& options) { options.site_deadline = 500ms; });
  const auto off_loop = visit_once(launcher, [&](crawler::VisitOptions& options) {
    options.site_deadline = 500ms;
    options.scanner = &scanner;
    options.scan_cache = &cache;
  });
  const auto cached = visit_once(launcher, [&](crawler::VisitOptions& options) {
    options.site_deadline = 500ms;
    options.scanner = &scanner;
    options.scan_cache = &cache;
  });
  const auto& a = on_loop.outcome.evidence.scripts.at(0);
  const auto& b = off_loop.outcome.evidence.scripts.at(0);
  const auto& c = cached.outcome.evidence.scripts.at(0);
  CHECK(a.source_state == "fetched");
  CHECK(b.source_state == "fetched");
  CHECK(c.source_state == "cached");
  CHECK(a.keyword_miner);
  for (const auto* other : {&b, &c}) {
    CHECK(other->keyword_score == a.keyword_score);
    CHECK(other->keyword_miner == a.keyword_miner);
    CHECK(other->keyword_hits.size() == a.keyword_hits.size());
  }
  CHECK(counter(cached.outcome.evidence, "scripts_from_cache") == 1);
  CHECK(launcher.chromes()[2]->commands("Debugger.getScriptSource").empty());
}

TEST_CASE("visit: targets over the cap are only resumed, and counted", "[visit]") {
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
    for (int i = 0; i < 3; ++i) chrome.attach(page, "worker", "http://site.test/w" + std::to_string(i) + ".js");
    return Navigation{};
  });
  const auto run = visit_once(launcher, [](crawler::VisitOptions& options) { options.limits.max_targets = 3; });
  const auto& targets = run.outcome.evidence.targets;
  REQUIRE(targets.size() == 4);  // the page and three workers
  CHECK(std::count_if(targets.begin(), targets.end(), [](const auto& t) { return t.instrumented; }) == 3);
  CHECK(counter(run.outcome.evidence, "targets_over_cap") == 1);
  const auto& chrome = *launcher.chromes()[0];
  // Every worker was resumed; only the instrumented ones had their domains enabled.
  CHECK(chrome.commands("Runtime.runIfWaitingForDebugger").size() == 4);
  CHECK(chrome.commands("Network.enable").size() == 3);
}

TEST_CASE("visit: a benign site's popup gets one second look (a reload) before the verdict", "[visit]") {
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
    chrome.after(20ms, [chrome = &chrome, page] { chrome->open_popup(page, "http://ads.test/popup.html"); });
    return Navigation{};
  });
  const auto run = visit_once(launcher);
  CHECK(run.outcome.evidence.status == Status::ok);
  CHECK(run.judgement.verdict == Verdict::clean);
  CHECK(counter(run.outcome.evidence, "popups_reloaded") == 1);
  const auto& chrome = *launcher.chromes()[0];
  const auto reloads = chrome.commands("Page.reload");
  REQUIRE(reloads.size() == 1);
  CHECK(reloads[0]["sessionId"] != chrome.commands("Page.navigate")[0]["sessionId"]);  // the popup, not our page
  const auto& targets = run.outcome.evidence.targets;
  REQUIRE(targets.size() == 2);
  CHECK(targets[1].url == "http://ads.test/popup.html");
}

TEST_CASE("visit: dialogs are dismissed and beforeunload is let through", "[visit]") {
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string&) {
    chrome.peer().event("Page.javascriptDialogOpening", {{"type", "alert"}, {"message", "hi"}}, page.session_id);
    chrome.peer().event("Page.javascriptDialogOpening", {{"type", "beforeunload"}, {"message", ""}}, page.session_id);
    return Navigation{};
  });
  const auto run = visit_once(launcher);
  CHECK(counter(run.outcome.evidence, "dialogs_dismissed") == 2);
  const auto answers = launcher.chromes()[0]->commands("Page.handleJavaScriptDialog");
  REQUIRE(answers.size() == 2);
  CHECK(answers[0]["params"]["accept"] == false);
  CHECK(answers[1]["params"]["accept"] == true);
}

TEST_CASE("visit: one browser serves two visits, each in a context of its own, nothing heard twice", "[visit]") {
  FakeLauncher launcher([](FakeChrome& chrome, const Target& page, const std::string& url) {
    if (url == "http://first.test/") {
      const auto worker = chrome.attach(page, "worker", "http://first.test/w.js");
      chrome.websocket(worker, "ws1", "ws://chat.first.test/");
    }
    return Navigation{};
  });
  asio::io_context io;
  auto options = options_for(launcher);
  options.site_deadline = 1s;  // a worker's socket keeps the first visit watching to its deadline
  std::shared_ptr<cdp::Browser> browser;
  const auto first = visit_in(io, browser, options, "http://first.test/");
  REQUIRE(browser);
  const auto second = visit_in(io, browser, options, "http://second.test/");
  CHECK(launcher.launched() == 1);
  CHECK_FALSE(second.outcome.browser_launched);
  CHECK(launcher.chromes()[0]->contexts_created() == 2);
  CHECK(launcher.chromes()[0]->contexts_disposed() == 2);
  CHECK(first.outcome.evidence.websockets.size() == 1);
  CHECK(second.outcome.evidence.websockets.empty());
  CHECK(second.outcome.evidence.targets.size() == 1);
  close(io, browser);
}
