// tests/unit/test_target_manager.cpp — the target layer of cdp/ over a scripted Chrome, no process:
// the wiring order, targets only resumed, what happens between visits, listeners that change, detach
// and sessions that fail fast, and the event registry as both filter and dispatch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "cdp/browser.hpp"
#include "cdp/commands.hpp"
#include "cdp/events.hpp"
#include "tests/support/fake_chrome.hpp"
#include "tests/support/io_helpers.hpp"

namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;
using testsupport::FakeChrome;
using testsupport::run_until;

// Hears target life, and instruments what `decide` says.
struct Recorder : cdp::TargetListener {
  std::function<bool(const cdp::TargetInfo&)> decide = [](const cdp::TargetInfo&) { return true; };
  std::vector<std::string> attached;
  std::vector<std::string> wired;  // "S2" when instrumented, "S2 resumed" when only resumed
  std::vector<std::string> detached;
  bool on_attached(const cdp::TargetInfo& target) override {
    attached.push_back(target.session_id);
    return decide(target);
  }
  void on_wired(const cdp::TargetInfo& target, bool instrumented) override {
    wired.push_back(target.session_id + (instrumented ? "" : " resumed"));
  }
  void on_detached(const cdp::TargetInfo& target) override { detached.push_back(target.session_id); }
};

// A connected browser over a FakeChrome whose site does nothing.
struct Harness {
  asio::io_context io;
  std::shared_ptr<FakeChrome> chrome = FakeChrome::create(io.get_executor(), nullptr);
  std::shared_ptr<cdp::Browser> browser;

  Harness() {
    auto connected = testsupport::spawn_for_result(io, chrome->connect());
    REQUIRE(run_until(io, [&] { return connected->has_value(); }));
    REQUIRE((*connected)->ok());
    browser = std::move(**connected).value();
  }
  ~Harness() {
    if (browser) {
      auto closing = testsupport::spawn_for_result(io, close(browser));
      run_until(io, [&] { return closing->has_value(); });
    }
  }
  static asio::awaitable<bool> close(std::shared_ptr<cdp::Browser> browser) {
    co_await browser->close();
    co_return true;
  }
  // A context and an about:blank page in it; the page's target id.
  std::string open_page() {
    auto context = testsupport::spawn_for_result(io, browser->targets().create_context());
    REQUIRE(run_until(io, [&] { return context->has_value(); }));
    auto page = testsupport::spawn_for_result(io, browser->targets().open_page((*context)->value()));
    REQUIRE(run_until(io, [&] { return page->has_value(); }));
    return (*page)->value();
  }
  std::vector<std::string> methods_on(const std::string& session_id) const {
    std::vector<std::string> out;
    for (const auto& command : chrome->peer().sent())
      if (command.value("sessionId", std::string()) == session_id) out.push_back(command["method"]);
    return out;
  }
  const FakeChrome::Target& target(const std::string& session_id) const { return chrome->targets().at(session_id); }
};

}  // namespace

TEST_CASE("target layer: the browser auto-attaches with Chrome's WebUI left out", "[cdp][targets]") {
  Harness harness;
  const auto attach = harness.chrome->commands("Target.setAutoAttach", "");
  REQUIRE(attach.size() == 1);
  const Json& params = attach[0]["params"];
  CHECK(params["autoAttach"] == true);
  CHECK(params["waitForDebuggerOnStart"] == true);
  CHECK(params["flatten"] == true);
  bool browser_ui_excluded = false;
  for (const auto& filter : params["filter"])
    browser_ui_excluded =
        browser_ui_excluded || (filter.value("type", "") == "browser_ui" && filter.value("exclude", false));
  CHECK(browser_ui_excluded);
}

TEST_CASE("target layer: a page is wired in the fixed order and resumed last, then reported wired", "[cdp][targets]") {
  Harness harness;
  Recorder recorder;
  cdp::EventRegistry events;
  harness.browser->take_events(&events, &recorder, nullptr);
  harness.open_page();
  REQUIRE(run_until(harness.io, [&] { return !recorder.wired.empty(); }));
  REQUIRE(recorder.attached.size() == 1);
  const std::string page = recorder.attached[0];
  CHECK(recorder.wired == std::vector<std::string>{page});
  CHECK(harness.methods_on(page) ==
        std::vector<std::string>{"Network.enable", "Debugger.enable", "Debugger.setSkipAllPauses", "Page.enable",
                                 "Target.setAutoAttach", "Runtime.runIfWaitingForDebugger"});
  // Its children are auto-attached paused too, so each can be wired before it runs.
  const auto child_attach = harness.chrome->commands("Target.setAutoAttach", page);
  REQUIRE(child_attach.size() == 1);
  CHECK(child_attach[0]["params"]["waitForDebuggerOnStart"] == true);
}

TEST_CASE("target layer: a worker gets no Page domain, and a target over the cap is only resumed", "[cdp][targets]") {
  Harness harness;
  Recorder recorder;
  recorder.decide = [](const cdp::TargetInfo& target) { return target.url != "http://site.test/over-cap.js"; };
  cdp::EventRegistry events;
  harness.browser->take_events(&events, &recorder, nullptr);
  harness.open_page();
  REQUIRE(run_until(harness.io, [&] { return recorder.wired.size() == 1; }));
  const auto& page = harness.target(recorder.attached[0]);
  const auto worker = harness.chrome->attach(page, "worker", "http://site.test/worker.js");
  const auto over_cap = harness.chrome->attach(page, "worker", "http://site.test/over-cap.js");
  REQUIRE(run_until(harness.io, [&] { return recorder.wired.size() == 3; }));
  CHECK(harness.methods_on(worker.session_id) ==
        std::vector<std::string>{"Network.enable", "Debugger.enable", "Debugger.setSkipAllPauses",
                                 "Target.setAutoAttach", "Runtime.runIfWaitingForDebugger"});
  CHECK(harness.methods_on(over_cap.session_id) == std::vector<std::string>{"Runtime.runIfWaitingForDebugger"});
  CHECK(std::count(recorder.wired.begin(), recorder.wired.end(), over_cap.session_id + " resumed") == 1);
}

TEST_CASE("target layer: between visits a target is only resumed, and nobody hears of it", "[cdp][targets]") {
  Harness harness;
  Recorder recorder;
  cdp::EventRegistry events;
  harness.browser->take_events(&events, &recorder, nullptr);
  harness.browser->release_events();
  harness.open_page();  // Chrome's own about:blank, say, or a straggler of a disposed context
  REQUIRE(run_until(harness.io, [&] { return !harness.chrome->commands("Runtime.runIfWaitingForDebugger").empty(); }));
  REQUIRE(run_until(harness.io, [&] { return harness.browser->targets().wirings_in_flight() == 0; }));
  const auto page = harness.chrome->commands("Runtime.runIfWaitingForDebugger")[0]["sessionId"].get<std::string>();
  CHECK(harness.methods_on(page) == std::vector<std::string>{"Runtime.runIfWaitingForDebugger"});
  CHECK(recorder.attached.empty());
  CHECK(recorder.wired.empty());
}

TEST_CASE("target layer: a wiring begun for one visit is never reported to the next", "[cdp][targets]") {
  Harness harness;
  Recorder first;
  Recorder second;
  cdp::EventRegistry events;
  harness.browser->take_events(&events, &first, nullptr);
  auto context = testsupport::spawn_for_result(harness.io, harness.browser->targets().create_context());
  REQUIRE(run_until(harness.io, [&] { return context->has_value(); }));
  auto page = testsupport::spawn_for_result(harness.io, harness.browser->targets().open_page((*context)->value()));
  // Stop right after the attach was heard, while its wiring is in flight, and hand over.
  REQUIRE(testsupport::step_until(harness.io, [&] { return !first.attached.empty(); }));
  REQUIRE(harness.browser->targets().wirings_in_flight() == 1);
  harness.browser->take_events(&events, &second, nullptr);
  REQUIRE(run_until(harness.io, [&] { return harness.browser->targets().wirings_in_flight() == 0; }));
  CHECK(first.wired.empty());
  CHECK(second.wired.empty());
  CHECK(second.attached.empty());
  // It was still wired and resumed: a target never waits for ever.
  CHECK(harness.methods_on(first.attached[0]).back() == "Runtime.runIfWaitingForDebugger");
}

TEST_CASE("target layer: a detached target is reported, and calls to it fail fast without being sent",
          "[cdp][targets]") {
  Harness harness;
  Recorder recorder;
  cdp::EventRegistry events;
  harness.browser->take_events(&events, &recorder, nullptr);
  harness.open_page();
  REQUIRE(run_until(harness.io, [&] { return recorder.wired.size() == 1; }));
  const std::string page = recorder.attached[0];
  const std::string context = harness.target(page).context_id;
  const cdp::Session session(harness.browser->connection(), page);
  CHECK(session.attached());

  auto disposed = testsupport::spawn_for_result(
      harness.io, harness.browser->targets().dispose_context(context, std::chrono::seconds(5)));
  REQUIRE(run_until(harness.io, [&] { return disposed->has_value(); }));
  CHECK((*disposed)->ok());
  CHECK(recorder.detached == std::vector<std::string>{page});
  CHECK_FALSE(session.attached());

  const auto sent_before = harness.chrome->peer().sent().size();
  const cdp::PageReload reload;
  auto call = testsupport::spawn_for_result(harness.io, session.send(reload));
  REQUIRE(run_until(harness.io, [&] { return call->has_value(); }));
  REQUIRE_FALSE((*call)->ok());
  CHECK((*call)->error().code == util::ErrorCode::target_gone);
  CHECK(cdp::target_gone((*call)->error()));
  CHECK(harness.chrome->peer().sent().size() == sent_before);
}

TEST_CASE("target layer: the registry decides what is parsed and where it goes", "[cdp][targets]") {
  Harness harness;
  Recorder recorder;
  cdp::EventRegistry events;
  std::vector<std::string> heard;
  events.on("Network.webSocketCreated", [&](const cdp::TargetInfo& target, const Json& params) {
    heard.push_back(target.session_id + " " + params.value("url", std::string()));
  });
  events.on("Network.webSocketCreated",
            [&](const cdp::TargetInfo&, const Json&) { heard.push_back("second handler"); });
  CHECK(events.handles("Network.webSocketCreated"));
  CHECK_FALSE(events.handles("Network.dataReceived"));
  CHECK(events.methods() == std::vector<std::string>{"Network.webSocketCreated"});
  // A handler may look at the raw text first: frequent events are parsed only when one wants them.
  events.on(
      "Network.requestWillBeSent", [&](const cdp::TargetInfo&, const Json&) { heard.push_back("request with a body"); },
      [](std::string_view raw) { return raw.find("\"hasPostData\":true") != std::string_view::npos; });
  CHECK(events.wants("Network.requestWillBeSent",
                     R"({"method":"Network.requestWillBeSent","params":{"request":{"hasPostData":true}}})"));
  CHECK_FALSE(
      events.wants("Network.requestWillBeSent", R"({"method":"Network.requestWillBeSent","params":{"request":{}}})"));
  CHECK(events.wants("Network.webSocketCreated", "{}"));  // no filter: always
  CHECK_FALSE(events.wants("Network.dataReceived", "{}"));

  harness.browser->take_events(&events, &recorder, nullptr);
  harness.open_page();
  REQUIRE(run_until(harness.io, [&] { return recorder.wired.size() == 1; }));
  const auto& page = harness.target(recorder.attached[0]);
  const auto skipped_before = harness.browser->connection().counters().events_skipped;
  harness.chrome->peer().event("Network.dataReceived", {{"requestId", "1"}, {"dataLength", 10}}, page.session_id);
  harness.chrome->websocket(page, "ws1", "ws://pool.test/ws");
  REQUIRE(run_until(harness.io, [&] { return heard.size() == 2; }));
  CHECK(heard == std::vector<std::string>{page.session_id + " ws://pool.test/ws", "second handler"});
  // The event nobody registered for was dropped before it was parsed.
  CHECK(harness.browser->connection().counters().events_skipped == skipped_before + 1);

  // After the visit lets go, nothing but Target.* is parsed.
  harness.browser->release_events();
  harness.chrome->websocket(page, "ws2", "ws://pool.test/ws2");
  harness.chrome->peer().event("Test.marker", Json::object());
  REQUIRE(run_until(harness.io,
                    [&] { return harness.browser->connection().counters().events_skipped >= skipped_before + 3; }));
  CHECK(heard.size() == 2);
}
