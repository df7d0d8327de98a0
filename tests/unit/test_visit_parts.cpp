// tests/unit/test_visit_parts.cpp — each part of a visit on its own, fed scripted CDP events through
// an EventRegistry (as the Connection would dispatch them), with no Chrome: the network collector's
// sockets, frames, addresses and document status, all bounded; the script collector's reads,
// budgets and Wasm deduplication by the decoded bytes; the target tracker's idea of the site's
// targets; and the renderer CPU arithmetic.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <tuple>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "blacklist/detector.hpp"
#include "blacklist/rules.hpp"
#include "blacklist/wasm.hpp"
#include "crawler/code_profiler.hpp"
#include "crawler/cpu_sampler.hpp"
#include "crawler/http_collector.hpp"
#include "crawler/network_collector.hpp"
#include "crawler/script_collector.hpp"
#include "crawler/target_tracker.hpp"
#include "tests/support/fake_chrome.hpp"
#include "tests/support/io_helpers.hpp"
#include "tests/support/pool_messages.hpp"

namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;
using testsupport::FakeChrome;
using testsupport::kFakePidBase;

const blacklist::Detector& detector() {
  static const blacklist::Detector instance = [] {
    auto loaded = blacklist::Rules::load(CJCRAWL_SOURCE_RULES);
    return blacklist::Detector(std::move(loaded.rules));
  }();
  return instance;
}

cdp::TargetInfo target(std::string session, std::string type, std::string context = "CTX") {
  cdp::TargetInfo info;
  info.session_id = std::move(session);
  info.target_id = "T-" + info.session_id;
  info.type = std::move(type);
  info.browser_context_id = std::move(context);
  return info;
}

std::uint64_t counter(const blacklist::Evidence& evidence, const std::string& name) {
  const auto it = evidence.counters.find(name);
  return it == evidence.counters.end() ? 0 : it->second;
}

Json frame(const std::string& request, const std::string& payload, int opcode = 1) {
  return {{"requestId", request}, {"response", {{"opcode", opcode}, {"payloadData", payload}}}};
}

// A FakeChrome with a browser connected and one page open in a fresh context.
struct PageInFakeChrome {
  asio::io_context io;
  std::shared_ptr<FakeChrome> chrome = FakeChrome::create(io.get_executor(), nullptr);
  std::shared_ptr<cdp::Browser> browser;
  FakeChrome::Target page;

  PageInFakeChrome() {
    auto connected = testsupport::spawn_for_result(io, chrome->connect());
    REQUIRE(testsupport::run_until(io, [&] { return connected->has_value(); }));
    browser = std::move(**connected).value();
    auto context = testsupport::spawn_for_result(io, browser->targets().create_context());
    REQUIRE(testsupport::run_until(io, [&] { return context->has_value(); }));
    auto page_id = testsupport::spawn_for_result(io, browser->targets().open_page((*context)->value()));
    REQUIRE(testsupport::run_until(io, [&] { return page_id->has_value(); }));
    page = chrome->targets().begin()->second;
  }

  void close() {
    browser->release_events();
    auto closing = testsupport::spawn_for_result(io, [](std::shared_ptr<cdp::Browser> b) -> asio::awaitable<bool> {
      co_await b->close();
      co_return true;
    }(browser));
    REQUIRE(testsupport::run_until(io, [&] { return closing->has_value(); }));
  }
};

}  // namespace

TEST_CASE("network part: sockets, frames and addresses are kept within their bounds, and counted", "[visit][parts]") {
  blacklist::Evidence evidence;
  crawler::VisitLimits limits;
  limits.max_websockets = 2;
  limits.max_frames_per_socket = 3;
  limits.max_frame_payload_bytes = 4;
  limits.max_remote_ips = 2;
  crawler::VisitContext visit(evidence, limits);
  crawler::NetworkCollector network(visit, detector());
  cdp::EventRegistry events;
  network.register_events(events);
  const auto worker = target("S2", "worker");

  for (const char* request : {"r1", "r2", "r3"})
    events.dispatch(worker, "Network.webSocketCreated",
                    {{"requestId", request}, {"url", std::string("ws://x.test/") + request}});
  REQUIRE(evidence.websockets.size() == 2);
  CHECK(counter(evidence, "websockets_not_stored") == 1);
  CHECK(evidence.websockets[0].target_type == "worker");

  for (int i = 0; i < 5; ++i) events.dispatch(worker, "Network.webSocketFrameReceived", frame("r1", "hello world"));
  events.dispatch(worker, "Network.webSocketFrameSent", frame("r1", "AAAAAA==", 2));  // 4 binary bytes
  events.dispatch(worker, "Network.webSocketFrameReceived", frame("r3", "not stored socket"));
  const auto& socket = evidence.websockets[0];
  CHECK(socket.frames_received == 5);
  CHECK(socket.frames_sent == 1);
  CHECK(socket.bytes_received == 5 * 11);
  CHECK(socket.bytes_sent == 4);
  REQUIRE(socket.frames.size() == 3);
  CHECK(socket.frames[0].payload == "hell");  // cut to the payload bound
  CHECK(counter(evidence, "frames_not_stored") == 3);
  CHECK(counter(evidence, "frames_received") == 6);  // every frame is counted, stored or not

  events.dispatch(worker, "Network.webSocketHandshakeResponseReceived",
                  {{"requestId", "r1"}, {"response", {{"status", 101}}}});
  events.dispatch(worker, "Network.webSocketFrameError", {{"requestId", "r1"}, {"errorMessage", "bad frame"}});
  events.dispatch(worker, "Network.webSocketClosed", {{"requestId", "r1"}});
  CHECK(socket.handshake_status == 101);
  CHECK(socket.error == "bad frame");
  CHECK(socket.closed);

  for (const char* ip : {"10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3"})
    events.dispatch(worker, "Network.responseReceived", {{"type", "Script"}, {"response", {{"remoteIPAddress", ip}}}});
  CHECK(evidence.remote_ips == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(counter(evidence, "remote_ips_not_stored") == 1);
}

TEST_CASE("network part: only our page's main document sets the visit's HTTP status", "[visit][parts]") {
  blacklist::Evidence evidence;
  const crawler::VisitLimits limits;
  crawler::VisitContext visit(evidence, limits);
  crawler::NetworkCollector network(visit, detector());
  cdp::EventRegistry events;
  network.register_events(events);
  const auto page = target("S1", "page");
  const auto frame_target = target("S3", "iframe");
  network.watch_document(page.session_id, page.target_id);
  auto document = [](const std::string& frame_id, int status) {
    return Json{
        {"type", "Document"}, {"frameId", frame_id}, {"response", {{"status", status}, {"mimeType", "text/html"}}}};
  };
  events.dispatch(frame_target, "Network.responseReceived", document(frame_target.target_id, 500));
  events.dispatch(page, "Network.responseReceived", document("a-subframe", 404));
  CHECK(evidence.http_status == 0);
  CHECK(evidence.status == blacklist::Status::ok);
  events.dispatch(page, "Network.responseReceived", document(page.target_id, 404));
  CHECK(evidence.http_status == 404);
  CHECK(evidence.status == blacklist::Status::http_error);
  CHECK(evidence.status_reason == "HTTP 404");
  CHECK(network.main_mime_type() == "text/html");
}

TEST_CASE("target part: only the site's targets are recorded and instrumented, up to the cap", "[visit][parts]") {
  blacklist::Evidence evidence;
  crawler::VisitLimits limits;
  limits.max_targets = 2;
  limits.max_target_records = 3;
  crawler::VisitContext visit(evidence, limits);
  asio::io_context io;
  cdp::Connection connection(nullptr, io.get_executor());  // never called here (no dialog, no pause)
  crawler::TargetTracker tracker(visit, connection);

  CHECK_FALSE(tracker.on_attached(target("S0", "page", "")));  // before the site's context exists: Chrome's own
  tracker.watch_context("CTX");
  CHECK_FALSE(tracker.on_attached(target("S1", "page", "OTHER")));  // an earlier site's straggler
  CHECK_FALSE(tracker.on_attached(target("S2", "browser_ui")));
  CHECK(tracker.on_attached(target("S3", "page")));  // our page
  tracker.expect_page("T-S3");
  tracker.navigation_started();
  CHECK(tracker.on_attached(target("S4", "page")));          // a popup
  CHECK_FALSE(tracker.on_attached(target("S5", "worker")));  // over the cap: only resumed
  CHECK_FALSE(tracker.on_attached(target("S6", "worker")));
  REQUIRE(evidence.targets.size() == 3);
  CHECK(evidence.targets[2].instrumented == false);
  CHECK(counter(evidence, "targets_over_cap") == 2);
  CHECK(counter(evidence, "targets_not_stored") == 1);
  CHECK(tracker.popup_sessions() == std::vector<std::string>{"S4"});

  // Our page is ours once its wiring is over; a popup still loading holds settling back until it loads.
  tracker.on_wired(target("S3", "page"), true);
  CHECK(tracker.page_session_id() == "S3");
  const auto now = crawler::Clock::now();
  CHECK(tracker.target_starting(now, std::chrono::milliseconds(0)));
  cdp::EventRegistry events;
  tracker.register_events(events);
  events.dispatch(target("S4", "page"), "Page.loadEventFired", Json::object());
  CHECK_FALSE(tracker.target_starting(crawler::Clock::now() + std::chrono::seconds(4), std::chrono::seconds(3)));
  CHECK(tracker.target_starting(crawler::Clock::now(), std::chrono::seconds(3)));  // it just loaded
  CHECK_FALSE(tracker.loaded());
  events.dispatch(target("S3", "page"), "Page.loadEventFired", Json::object());
  CHECK(tracker.loaded());
  events.dispatch(target("S3", "page"), "Inspector.targetCrashed", Json::object());
  CHECK(tracker.crashed());
}

TEST_CASE("script part: sources are read within the visit's budget, Wasm deduplicated by its bytes", "[visit][parts]") {
  // A page to parse scripts on (the collector reads sources through its session).
  PageInFakeChrome site;
  auto& io = site.io;
  auto& chrome = site.chrome;
  auto& browser = site.browser;
  const auto page = site.page;

  blacklist::Evidence evidence;
  crawler::VisitLimits limits;
  limits.max_total_source_bytes = 100;
  limits.max_pending_source_fetches = 5;
  crawler::VisitContext visit(evidence, limits);
  visit.set_spawner([&](asio::awaitable<void> task) { asio::co_spawn(io, std::move(task), asio::detached); });
  crawler::ScriptCollector scripts(visit, browser->connection(), {&detector(), nullptr, nullptr});
  cdp::EventRegistry events;
  scripts.register_events(events);
  browser->take_events(&events, nullptr, nullptr);

  const std::string module_a = std::string("\0asm\x01\0\0\0", 8) + "A";
  const std::string module_b = std::string("\0asm\x01\0\0\0", 8) + "B";
  chrome->script(page, "a.wasm", module_a, "WebAssembly");        // all Wasm has one CDP hash in Chrome 156
  chrome->script(page, "b.wasm", module_b, "WebAssembly");        // a different module: read too
  chrome->script(page, "a-again.wasm", module_a, "WebAssembly");  // the same bytes: a duplicate
  chrome->script(page, "big.js", std::string(80, 'x'));           // 80 of the 100-byte budget are left
  chrome->script(page, "over.js", std::string(80, 'y'));          // over what is left
  for (int i = 0; i < 6; ++i) chrome->script(page, "q" + std::to_string(i) + ".js", "var q" + std::to_string(i) + ";");
  REQUIRE(testsupport::run_until(io, [&] { return evidence.scripts.size() == 11 && !scripts.busy(); }));
  CHECK(evidence.scripts[0].source_state == "fetched");
  CHECK(evidence.scripts[1].source_state == "fetched");
  CHECK(evidence.scripts[0].sha256 != evidence.scripts[1].sha256);  // the hash of the bytes read
  CHECK(evidence.scripts[2].source_state == "duplicate");
  CHECK(evidence.scripts[3].source_state == "fetched");
  CHECK(evidence.scripts[4].source_state == "unavailable");
  CHECK(counter(evidence, "source_budget_exhausted") >= 1);
  // The fetch queue holds five; the rest were left unread, and said so.
  CHECK(counter(evidence, "source_fetch_queue_full") >= 1);
  site.close();
}

TEST_CASE("HTTP part: pool traffic in request bodies, worker responses and server-sent events, bounded",
          "[visit][parts]") {
  PageInFakeChrome site;
  auto& io = site.io;
  auto& chrome = site.chrome;
  auto& browser = site.browser;
  const auto page = site.page;
  const auto worker = chrome->attach(page, "worker", "https://site.test/w.js");

  blacklist::Evidence evidence;
  crawler::VisitLimits limits;
  limits.max_http_bodies = 3;
  crawler::VisitContext visit(evidence, limits);
  visit.set_spawner([&](asio::awaitable<void> task) { asio::co_spawn(io, std::move(task), asio::detached); });
  crawler::HttpCollector http(visit, browser->connection(), detector());
  cdp::EventRegistry events;
  http.register_events(events);
  browser->take_events(&events, nullptr, nullptr);

  const std::string job = R"({"j":")" + test_support::hashing_blob_hex() + R"("})";
  const std::string share = R"({"n":"01020304","h":")" + test_support::to_hex(test_support::share_hash(9)) + R"("})";
  // The page's own API: a JSON post and its answer, nothing pool-like; its response is never read.
  chrome->http_exchange(page, "Fetch", "https://site.test/api/like?id=3", R"({"liked":true})", job);
  // The worker polls a relay over HTTP: a job in a response, a share in the next request's body.
  chrome->http_exchange(worker, "Fetch", "https://relay.test/poll?t=1", "", job);
  chrome->http_exchange(worker, "XHR", "https://relay.test/poll?t=2", share, R"({"ok":1})");
  // More worker responses than the visit reads.
  for (int i = 0; i < 3; ++i)
    chrome->http_exchange(worker, "Fetch", "https://cdn.test/x" + std::to_string(i), "", "{}");
  REQUIRE(testsupport::run_until(io, [&] {
    return counter(evidence, "http_messages_examined") >= 5 && counter(evidence, "http_bodies_not_read") >= 1;
  }));
  REQUIRE(evidence.http_channels.size() == 1);  // only the endpoint with a finding is recorded
  const auto& relay = evidence.http_channels[0];
  CHECK(relay.endpoint == "https://relay.test");
  CHECK(relay.target_type == "worker");
  CHECK(relay.pool.shape_jobs == 1);
  CHECK(relay.pool.shape_shares == 1);
  CHECK(relay.pool.shape_encoding == "hex");
  CHECK(relay.samples.size() == 2);

  // Server-sent events: the data is in the event, from any target.
  events.dispatch(target(page.session_id, "page"), "Network.requestWillBeSent",
                  {{"requestId", "es1"}, {"type", "EventSource"}, {"request", {{"url", "https://push.test/jobs"}}}});
  events.dispatch(target(page.session_id, "page"), "Network.eventSourceMessageReceived",
                  {{"requestId", "es1"}, {"eventName", "job"}, {"data", job}});
  REQUIRE(evidence.http_channels.size() == 2);
  CHECK(evidence.http_channels[1].endpoint == "https://push.test");
  CHECK(evidence.http_channels[1].pool.shape_jobs == 1);

  // Judged: the relay is pool traffic (jobs and shares), whatever its framing.
  blacklist::CpuRule rule;
  const auto judgement = detector().judge(evidence, rule, blacklist::CpuOutcome{});
  CHECK(judgement.verdict == blacklist::Verdict::cryptojacking);
  site.close();
}

TEST_CASE("CPU part: renderer demand counts the site's renderers only, each from its own baseline", "[visit][parts]") {
  const std::int64_t earlier = kFakePidBase + 1;  // running before the site's context existed
  const std::int64_t page = kFakePidBase + 2;
  const std::int64_t popup = kFakePidBase + 3;
  auto reading = [](std::vector<std::pair<std::int64_t, double>> renderers) {
    std::vector<cdp::ProcessInfo> processes{{"browser", kFakePidBase, 50.0}};
    for (const auto& [pid, cpu] : renderers) processes.push_back({"renderer", pid, cpu});
    return processes;
  };
  crawler::RendererCpu cpu({earlier});
  CHECK(cpu.update(reading({{earlier, 10.0}, {page, 1.0}})) == Approx(0.0));  // the baseline
  CHECK(cpu.update(reading({{earlier, 20.0}, {page, 1.5}})) == Approx(0.5));  // the earlier one never counts
  // A renderer first seen after the baseline counts in full; one that goes stops counting.
  CHECK(cpu.update(reading({{page, 2.0}, {popup, 0.25}})) == Approx(1.25));
  CHECK(cpu.update(reading({{popup, 0.75}})) == Approx(1.75));
  // A counter that goes backwards (a pid reused) adds nothing rather than taking back.
  CHECK(cpu.update(reading({{popup, 0.10}})) == Approx(1.75));
  CHECK(cpu.waited_seconds() == Approx(0.0));  // no /proc for these pids: plain CPU time
}

namespace {

// A V8 profile of one target: `hits` samples on each (function, script, column), the rest idle.
Json profile_of(const std::vector<std::tuple<std::string, std::string, int, int>>& hits, int total) {
  Json nodes = Json::array({{{"id", 1}, {"callFrame", {{"functionName", "(root)"}, {"scriptId", "0"}}}},
                            {{"id", 2}, {"callFrame", {{"functionName", "(idle)"}, {"scriptId", "0"}}}}});
  Json samples = Json::array();
  int id = 3;
  for (const auto& [function, script_id, column, count] : hits) {
    nodes.push_back(
        {{"id", id},
         {"callFrame",
          {{"functionName", function}, {"scriptId", script_id}, {"lineNumber", 0}, {"columnNumber", column}}}});
    for (int i = 0; i < count; ++i) samples.push_back(id);
    ++id;
  }
  while (static_cast<int>(samples.size()) < total) samples.push_back(2);
  return {{"nodes", nodes}, {"samples", samples}, {"startTime", 0}, {"endTime", 1'500'000}};
}

std::string corpus_build(const std::string& file) {
  std::ifstream in(std::string(CJCRAWL_SOURCE_DIR) + "/tests/fixtures/wasm/builds/" + file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("profiler part: a busy worker's hot code is named and judged, and nothing is profiled unasked",
          "[visit][parts]") {
  PageInFakeChrome site;
  auto& io = site.io;
  blacklist::Evidence evidence;
  crawler::VisitLimits limits;
  crawler::VisitContext visit(evidence, limits);
  visit.set_spawner([&](asio::awaitable<void> task) { asio::co_spawn(io, std::move(task), asio::detached); });
  cdp::Connection& connection = site.browser->connection();
  crawler::TargetTracker tracker(visit, connection);
  crawler::ScriptCollector scripts(visit, connection, {&detector(), nullptr, nullptr});
  cdp::EventRegistry events;
  tracker.register_events(events);
  scripts.register_events(events);
  tracker.watch_context(site.page.context_id);
  site.browser->take_events(&events, &tracker, nullptr);
  const blacklist::CpuRule rule;  // 50% of a core
  crawler::CodeProfiler::Options options;
  options.duration = std::chrono::milliseconds(5);
  crawler::CodeProfiler profiler(visit, connection, tracker, scripts, rule, options);

  const auto worker = site.chrome->attach(site.page, "worker", "https://a.test/w.js");
  REQUIRE(testsupport::run_until(io, [&] { return !tracker.script_targets().empty(); }));
  const std::string tick = "function tick(v) { return v.map((x) => x * 2 + 1); }";  // a map and a sum: no hash
  const auto tick_id = site.chrome->script(worker, "https://a.test/w.js", tick);
  REQUIRE(testsupport::run_until(io, [&] { return evidence.scripts.size() == 1 && !scripts.busy(); }));

  // An idle page with nothing suspicious is never profiled.
  evidence.cpu_samples = {{0, 0}, {0.5, 0.05}};
  profiler.consider();
  CHECK_FALSE(profiler.busy());
  CHECK(site.chrome->commands("Profiler.start").empty());

  // A CryptoNight module arrives: the fingerprint asks for a profile. Most of the worker's samples
  // are in its main loop, some in the page's own code.
  const std::string module = corpus_build("cn_pico.emcc.O3.wasm");
  const auto print = blacklist::wasm::fingerprint(module);
  REQUIRE(print.cryptonight_core);
  std::uint32_t loop_offset = 0;
  for (const auto& function : print.hash_functions)
    if (function.index == print.scratchpad_function) loop_offset = function.begin + 10;
  const auto module_id = site.chrome->script(worker, "https://a.test/core.wasm", module, "WebAssembly");
  REQUIRE(testsupport::run_until(io, [&] { return evidence.scripts.size() == 2 && !scripts.busy(); }));
  REQUIRE(evidence.scripts[1].wasm_miner);
  site.chrome->set_profile(
      worker,
      profile_of({{"wasm-function[9]", module_id, static_cast<int>(loop_offset), 22}, {"tick", tick_id, 9, 10}}, 100));
  profiler.consider();
  CHECK(profiler.busy());
  REQUIRE(testsupport::run_until(io, [&] { return !profiler.busy(); }));
  CHECK(evidence.profiles == 1);
  CHECK(site.chrome->commands("Profiler.start", worker.session_id).size() == 1);
  REQUIRE(evidence.hot_code.size() == 2);
  const auto& hot = evidence.hot_code[0];
  CHECK(hot.code == "mining hash");
  CHECK(hot.share == Approx(0.22));
  CHECK(hot.language == "WebAssembly");
  CHECK(hot.wasm_sha256 == evidence.scripts[1].sha256);
  CHECK(hot.target_type == "worker");
  CHECK(evidence.hot_code[1].function == "tick");
  CHECK(evidence.hot_code[1].code == "not a hash");  // its text was read back and measured
  const auto judgement = detector().judge(evidence, rule, blacklist::decide(rule, evidence.cpu_samples, rule.window));
  CHECK(judgement.verdict == blacklist::Verdict::cryptojacking);

  // A second round only after a pause, and never once mining code was found.
  profiler.consider();
  CHECK_FALSE(profiler.busy());
  site.close();
}

TEST_CASE("target layer: a target attached twice is one target, and its spare session takes over when the first ends",
          "[visit][parts][targets]") {
  PageInFakeChrome fake;
  struct Recorder : cdp::TargetListener {
    std::vector<std::string> attached, detached;
    bool on_attached(const cdp::TargetInfo& target) override {
      attached.push_back(target.session_id);
      return true;
    }
    void on_detached(const cdp::TargetInfo& target) override { detached.push_back(target.session_id); }
  } recorder;
  auto& targets = fake.browser->targets();
  targets.set_listener(&recorder);
  const auto sent = [&](const char* method, const FakeChrome::Target& on) {
    return fake.chrome->commands(method, on.session_id).size();
  };

  // Chrome attaches a page's service worker to the page's session and to the browser's.
  const auto first = fake.chrome->attach(fake.page, "service_worker", "http://site.test/sw.js");
  const auto second = fake.chrome->attach_again(first, "");
  REQUIRE(testsupport::run_until(fake.io, [&] { return sent("Runtime.runIfWaitingForDebugger", second) == 1; }));
  REQUIRE(testsupport::run_until(fake.io, [&] { return sent("Runtime.runIfWaitingForDebugger", first) == 1; }));
  CHECK(recorder.attached == std::vector<std::string>{first.session_id});  // one target, reported once
  CHECK(sent("Network.enable", first) == 1);
  CHECK(sent("Network.enable", second) == 0);  // only resumed: its traffic is never seen twice
  CHECK(targets.duplicate_attachments() == 1);

  // The page's session ends, the worker lives on: the spare is reported and instrumented.
  fake.chrome->detach(first);
  REQUIRE(testsupport::run_until(fake.io, [&] { return sent("Network.enable", second) == 1; }));
  CHECK(recorder.detached == std::vector<std::string>{first.session_id});
  CHECK(recorder.attached == std::vector<std::string>{first.session_id, second.session_id});
  fake.chrome->detach(second);
  REQUIRE(testsupport::run_until(fake.io, [&] { return recorder.detached.size() == 2; }));
  CHECK(recorder.detached.back() == second.session_id);

  targets.set_listener(nullptr);
  fake.close();
}
