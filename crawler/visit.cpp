// crawler/visit.cpp — the controller of one instrumented visit: it runs the steps and decides when the
// visit settles; the parts that collect are in target_tracker, script_collector, network_collector and
// cpu_sampler.
//
// Flow (each step under the site deadline):
//   1. the slot's browser, or a newly launched sandboxed Chrome when there is none (or it died)
//   2. a fresh browser context with downloads denied, and our page in it, wired (cdp::TargetManager)
//   3. navigate; a net error becomes the status
//   4. wait for the load event (or the load deadline), then sample renderer CPU until settled
//   5. dispose of the context (every page, popup and worker of the site goes with it); retire the
//      browser after a crash, a lost connection or a hang
//
// g++ 12 coroutine bugs shape this file (and cdp/): no co_await inside an if/while condition (the
// frame resumes at an invalid point: SIGILL), and no aggregate temporaries with member initialisers
// inside a co_await expression (destroyed twice): commands with data are named locals.
#include "crawler/visit.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cdp/commands.hpp"
#include "crawler/code_profiler.hpp"
#include "crawler/cpu_sampler.hpp"
#include "crawler/egress_collector.hpp"
#include "crawler/http_collector.hpp"
#include "crawler/navigation.hpp"
#include "crawler/network_collector.hpp"
#include "crawler/script_collector.hpp"
#include "crawler/signal.hpp"
#include "crawler/target_tracker.hpp"
#include "util/clock.hpp"

namespace crawler {
namespace {

using blacklist::Status;
using std::chrono::milliseconds;

constexpr milliseconds kSetupCallTimeout{10'000};   // context, downloads, the CPU baseline
constexpr milliseconds kSettleAfterAttach{3'000};   // a just-attached target is still starting
constexpr milliseconds kPageAttachTimeout{10'000};  // createTarget → our page wired
constexpr milliseconds kCloseGrace{2'000};          // tasks finishing after the context went
constexpr milliseconds kDisposeTimeout{5'000};      // Target.disposeBrowserContext; longer is a hang
constexpr int kMaxPopupReloads = 8;  // popups given a second look (Visit::reload_popups), first opened first

class Visit : public std::enable_shared_from_this<Visit> {
 public:
  Visit(std::shared_ptr<cdp::Browser>* home, std::string input, std::string url, const VisitOptions& options,
        asio::any_io_executor executor)
      : options_(options), detector_(options.detector ? *options.detector : kNoRules), url_(std::move(url)),
        executor_(std::move(executor)), signal_(executor_), home_(home), context_(outcome_.evidence, options_.limits) {
    auto& evidence = outcome_.evidence;
    evidence.input = std::move(input);
    evidence.url = url_;
    evidence.sample_period_seconds = std::chrono::duration<double>(options.sample_period).count();
    evidence.cpu_threshold_percent = options.cpu_rule.threshold_percent;
    evidence.cpu_window = options.cpu_rule.window;
    evidence.cpu_ratio = options.cpu_rule.ratio;
  }

  asio::awaitable<void> run();
  VisitOutcome take_outcome() { return std::move(outcome_); }

 private:
  blacklist::Evidence& evidence() { return outcome_.evidence; }
  Clock::time_point deadline() const { return started_ + options_.site_deadline; }
  milliseconds remaining() const {
    return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline() - Clock::now()));
  }
  bool stopped() const { return connection_done_ || (targets_ && targets_->crashed()); }
  bool crashed() const { return targets_ && targets_->crashed(); }
  // Intervals that still fit before the deadline: the horizon of a page that asks for more watching.
  int intervals_left() const { return static_cast<int>((deadline() - Clock::now()) / options_.sample_period); }

  // Runs `task` beside the visit; the visit stays alive until it completes.
  void spawn(asio::awaitable<void> task) {
    ++tasks_;
    asio::co_spawn(executor_, std::move(task), [self = shared_from_this()](std::exception_ptr error) {
      --self->tasks_;
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::error("visit task failed: {}", e.what());
        }
      }
      self->signal_.notify();
    });
  }

  asio::awaitable<bool> setup_browser();
  asio::awaitable<bool> open_page();
  void make_parts();
  asio::awaitable<void> navigate_and_watch();
  asio::awaitable<bool> navigate();
  asio::awaitable<void> interact();
  asio::awaitable<void> sample_until_settled();
  bool may_settle(const blacklist::Assessment& assessment) const;
  asio::awaitable<int> reload_popups();
  asio::awaitable<void> finish();
  asio::awaitable<std::string> release_browser();
  void count_connection_oddities();

  static inline const blacklist::Detector kNoRules{};
  VisitOptions options_;
  const blacklist::Detector& detector_;
  std::string url_;
  VisitOutcome outcome_;
  asio::any_io_executor executor_;
  Signal signal_;
  int tasks_ = 0;
  Clock::time_point started_ = Clock::now();

  // The slot's browser (shared: tasks still finishing keep it, and its connection, alive), and where
  // the slot keeps it: reset when this visit retires the browser.
  std::shared_ptr<cdp::Browser>* home_;
  std::shared_ptr<cdp::Browser> browser_;
  cdp::ConnectionCounters counters_at_start_{};
  std::uint64_t egress_mark_ = 0;  // the egress proxy's journal position when the visit began
  std::string context_id_;
  std::set<std::int64_t> earlier_renderers_;  // running before our context was created
  bool connection_done_ = false;
  bool watched_ = false;          // weak signals kept the visit sampling past one window
  bool popups_reloaded_ = false;  // the second look was taken

  // The parts, made once the browser is known.
  VisitContext context_;
  cdp::EventRegistry events_;
  std::optional<TargetTracker> targets_;
  std::optional<ScriptCollector> scripts_;
  std::optional<NetworkCollector> network_;
  std::optional<HttpCollector> http_;
  std::optional<CpuSampler> cpu_;
  std::optional<CodeProfiler> profiler_;
};

asio::awaitable<void> Visit::run() {
  evidence().started_at_ms = util::wall_ms();
  const bool ready = co_await setup_browser();
  if (ready) co_await navigate_and_watch();
  co_await finish();
}

// Step 1: a live browser, the visit's parts wired to its events.
asio::awaitable<bool> Visit::setup_browser() {
  if (*home_ && !(*home_)->alive()) {
    co_await (*home_)->close();  // died between sites (killed, out of memory): launch another
    home_->reset();
  }
  if (!*home_) {
    cdp::LaunchOptions launch = options_.launch;
    launch.startup_timeout = std::min(launch.startup_timeout, remaining());
    // (One co_await on one named awaitable: g++ 12 mishandles co_await inside a conditional expression.)
    auto launching = options_.browser_factory ? options_.browser_factory(launch) : cdp::Browser::launch(launch);
    auto launched = co_await std::move(launching);
    if (!launched) {
      outcome_.tool_error = launched.error().message;
      co_return false;
    }
    *home_ = std::move(launched).value();
    outcome_.browser_launched = true;
  }
  browser_ = *home_;
  counters_at_start_ = browser_->connection().counters();
  if (auto* egress = browser_->egress()) egress_mark_ = egress->mark();
  make_parts();
  browser_->take_events(&events_, &*targets_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->connection_done_ = true;
      self->scripts_->stop();  // sources can no longer be read
      self->http_->stop();
      if (self->profiler_) self->profiler_->stop();
      self->signal_.notify();
    }
  });
  if (!browser_->alive()) {
    connection_done_ = true;
    outcome_.tool_error = "the browser went away before the visit started";
    co_return false;
  }
  const bool opened = co_await open_page();
  co_return opened;
}

void Visit::make_parts() {
  context_.set_spawner([weak = weak_from_this()](asio::awaitable<void> task) {
    if (auto self = weak.lock()) self->spawn(std::move(task));
  });
  context_.set_notifier([this] { signal_.notify(); });
  cdp::Connection& connection = browser_->connection();
  targets_.emplace(context_, connection);
  scripts_.emplace(context_, connection, ScriptCollector::Options{&detector_, options_.scan_cache, options_.scanner});
  network_.emplace(context_, detector_);
  if (browser_->egress()) network_->ignore_response_ips();
  http_.emplace(context_, connection, detector_);
  targets_->register_events(events_);
  scripts_->register_events(events_);
  network_->register_events(events_);
  http_->register_events(events_);
  if (options_.profile_hot_code)
    profiler_.emplace(context_, connection, *targets_, *scripts_, options_.cpu_rule, CodeProfiler::Options{});
}

// Step 2: our context, and our page in it, wired and waiting.
asio::awaitable<bool> Visit::open_page() {
  // The renderers running before our context exists are not the site's (see RendererCpu).
  earlier_renderers_ = co_await running_renderers(browser_->browser_session());
  auto context = co_await browser_->targets().create_context();
  if (!context) {
    outcome_.tool_error = "cannot create a browser context: " + context.error().describe();
    co_return false;
  }
  context_id_ = *context;
  targets_->watch_context(context_id_);
  const cdp::BrowserSetDownloadBehavior deny_downloads{context_id_};
  auto denied = co_await browser_->browser_session().send(deny_downloads, kSetupCallTimeout);
  if (!denied) spdlog::debug("downloads not denied: {}", denied.error().describe());

  auto page = co_await browser_->targets().open_page(context_id_);
  if (!page) {
    outcome_.tool_error = "cannot open a page: " + page.error().describe();
    co_return false;
  }
  targets_->expect_page(*page);
  // The attach event may come before or after the reply; wiring finishes in its own task.
  const auto until = std::min(deadline(), Clock::now() + kPageAttachTimeout);
  co_await signal_.wait_for([this] { return !targets_->page_session_id().empty() || stopped(); }, until);
  if (targets_->page_session_id().empty()) {
    outcome_.tool_error = "Chrome did not attach the new page in time";
    co_return false;
  }
  network_->watch_document(targets_->page_session_id(), targets_->page_target_id());
  co_return true;
}

// Steps 3–4: navigate, wait for load, sample.
asio::awaitable<void> Visit::navigate_and_watch() {
  const bool committed = co_await navigate();
  if (!committed) co_return;
  const auto load_until = std::min(deadline(), Clock::now() + options_.load_timeout);
  co_await signal_.wait_for([this] { return targets_->loaded() || stopped(); }, load_until);
  if (stopped()) {
    context_.set_status(Status::crash, crashed() ? "renderer crashed" : "browser connection lost");
    co_return;
  }
  if (!targets_->loaded())
    context_.count("load_timeout");  // sampling starts anyway: a hanging subresource is no excuse
  // Beside sampling, not before it: Chrome acks input only from a visible page, and a page that
  // opened a popup is in the background, where each event waits out its deadline (measured: the
  // opener of popup-opener.html). Awaiting that delayed sampling and, once in CI, the popup's miner.
  if (options_.interact) spawn(interact());
  cpu_.emplace(context_, browser_->browser_session(), earlier_renderers_, options_.sample_period);
  co_await sample_until_settled();
}

// Step 3. true when a page committed and is worth watching; otherwise the status says why not.
asio::awaitable<bool> Visit::navigate() {
  using namespace asio::experimental::awaitable_operators;
  context_.start_navigation(Clock::now());
  targets_->navigation_started();  // from here, a new page target is a popup
  // Page.navigate replies when the navigation commits or fails; a crash must cut the wait short.
  const cdp::Session page(browser_->connection(), targets_->page_session_id());
  const cdp::PageNavigate navigate{url_};
  auto navigation =
      co_await (page.send(navigate, remaining()) || signal_.wait_for([this] { return stopped(); }, deadline()));
  if (navigation.index() == 1) {
    if (stopped())
      context_.set_status(Status::crash, crashed() ? "renderer crashed during navigation" : "browser connection lost");
    else context_.set_status(Status::timeout, "navigation did not commit before the site deadline");
    co_return false;
  }
  auto outcome =
      interpret_navigation(std::get<0>(navigation), evidence().http_status, network_->main_mime_type(), stopped());
  if (outcome.status && browser_->egress()) {
    // Behind the egress proxy Chrome reports every refusal alike; the proxy's journal says which.
    const auto& reply = std::get<0>(navigation);
    const auto records = browser_->egress()->records_since(egress_mark_);
    if (auto explained = main_frame_egress_status(reply ? reply->error_text : std::string(), records)) {
      outcome.status = explained->first;
      outcome.reason = explained->second;
    }
  }
  if (outcome.status) context_.set_status(*outcome.status, outcome.reason);
  if (outcome.not_a_page) context_.count("not_a_page");
  co_return outcome.watch;
}

// What a visitor does first: moves the mouse across the page and scrolls once. Each event is one
// Input.dispatchMouseEvent on the page's session, under a short deadline; a failure is counted and
// the rest skipped (a page may have navigated away, crashed, or be in the background). Runs as its
// own task beside sampling.
asio::awaitable<void> Visit::interact() {
  // Inside the smallest viewport used (--headless-profile's 800×600), so every event lands on the page.
  static const std::array<cdp::InputDispatchMouseEvent, 4> kGestures{{{"mouseMoved", 200, 150, 0},
                                                                      {"mouseMoved", 420, 300, 0},
                                                                      {"mouseMoved", 640, 450, 0},
                                                                      {"mouseWheel", 420, 300, 600}}};
  const cdp::Session page(browser_->connection(), targets_->page_session_id());
  for (const auto& gesture : kGestures) {
    if (stopped() || Clock::now() >= deadline()) co_return;
    const auto timeout = std::min(remaining(), milliseconds(1'000));
    auto sent = co_await page.send(gesture, timeout);
    if (!sent) {
      context_.count("interaction_failed");
      co_return;
    }
  }
  context_.count("interaction_dispatched");
}

// Step 4: a sample every period until the verdict is settled, the deadline, or a stop.
asio::awaitable<void> Visit::sample_until_settled() {
  co_await cpu_->sample();  // the baseline
  auto next = Clock::now() + options_.sample_period;
  for (;;) {
    const bool stop = co_await signal_.wait_for([this] { return stopped(); }, std::min(next, deadline()));
    if (stop || Clock::now() >= deadline()) break;
    co_await cpu_->sample();
    if (profiler_) profiler_->consider();
    const auto assessment = detector_.assess(evidence(), options_.cpu_rule, intervals_left());
    if (assessment.keep_watching) watched_ = true;
    if (may_settle(assessment)) {
      // A benign verdict on a site that opened popups: each popup gets one second look first. The
      // reloaded popups count as loading again, and their load restarts the settle period.
      int reloaded = 0;
      if (options_.early_stop && !assessment.mining && !popups_reloaded_ && !targets_->popup_sessions().empty()) {
        popups_reloaded_ = true;
        reloaded = co_await reload_popups();
      }
      if (reloaded == 0) {
        spdlog::debug("visit settled after {} samples: {}", evidence().cpu_samples.size(), assessment.why);
        break;
      }
    }
    next += options_.sample_period;
    if (next < Clock::now()) next = Clock::now() + options_.sample_period;  // fell behind: don't burst
  }
  outcome_.cpu = blacklist::decide(options_.cpu_rule, evidence().cpu_samples,
                                   detector_.horizon(evidence(), options_.cpu_rule, intervals_left()));
  outcome_.processes = cpu_->processes();
  // Only when watching really went past one window (a late starter had its chance).
  if (watched_ && static_cast<int>(evidence().cpu_samples.size()) - 1 > options_.cpu_rule.window)
    context_.count("watched_past_window");
  if (crashed()) context_.set_status(Status::crash, "renderer crashed during sampling");
  else if (connection_done_) context_.set_status(Status::crash, "browser connection lost during sampling");
  else if (evidence().cpu_samples.size() < 2)
    context_.set_status(Status::timeout, "site deadline reached before CPU could be sampled");
}

// Whether sampling may stop now. The original method's fixed window (--no-early-stop, the benchmark
// baseline): exactly one window of intervals, whatever the evidence says meanwhile. Otherwise when
// the detector says the verdict is settled, but not while sources are still being read (their
// keywords or Wasm may change the verdict), nor, for a verdict short of cryptojacking, just after a
// target attached: a popup or worker opened a moment ago has not had time to start (measured: an idle
// opener settled in 0.4 s, before its popup's miner ran). A mining verdict cannot get any stronger,
// so it does not wait. A profile being taken holds a benign verdict back the same way: the code it
// finds hot may be a miner's.
bool Visit::may_settle(const blacklist::Assessment& assessment) const {
  if (scripts_->busy()) return false;
  if (profiler_ && profiler_->busy() && !assessment.mining && options_.early_stop) return false;
  if (!options_.early_stop)
    return static_cast<int>(outcome_.evidence.cpu_samples.size()) - 1 >= options_.cpu_rule.window;
  if (!assessment.settled) return false;
  const auto settle = std::max(kSettleAfterAttach, 2 * options_.sample_period);
  return assessment.mining || !targets_->target_starting(Clock::now(), settle);
}

// The second look. Chromium 156 sometimes fails a popup's dedicated Worker: `new Worker(...)` in a
// popup's first document fires the Worker's `error` event and no worker runs, though its script is
// served. Measured with popup-opener.html, 80 visits a run at concurrency 1: 5 to 7 failed, with or
// without other load, and still 6 of 80 with the popup uninstrumented (only resumed), so it is
// Chrome's race, not our wiring: the page then reads idle and came out clean (the CI failure of
// sessions 3 and 4). A reload of the popup runs its worker: 80 of 80 with this step, idle and with
// both cores busy, 4 and 5 of them caught after the reload. A site whose verdict is already mining
// is not reloaded, nor is a site without popups; a benign popup site pays one reload and one settle
// period.
// At most kMaxPopupReloads popups, within the site deadline. Returns how many were reloaded (a
// closed popup cannot be).
asio::awaitable<int> Visit::reload_popups() {
  int reloaded = 0;
  const cdp::PageReload reload;
  for (const auto& session_id : targets_->popup_sessions()) {
    if (stopped() || Clock::now() >= deadline() || reloaded == kMaxPopupReloads) break;
    const cdp::Session popup(browser_->connection(), session_id);
    auto done = co_await popup.send(reload, kSetupCallTimeout);
    if (!done) {
      spdlog::debug("popup not reloaded: {}", done.error().describe());
      continue;
    }
    targets_->reloading(session_id, Clock::now());
    ++reloaded;
  }
  if (reloaded > 0) context_.count("popups_reloaded", static_cast<std::uint64_t>(reloaded));
  co_return reloaded;
}

// Step 5: always runs, whatever happened before.
asio::awaitable<void> Visit::finish() {
  if (evidence().final_url.empty()) evidence().final_url = url_;
  if (browser_) {
    outcome_.browser_retired = co_await release_browser();
    count_connection_oddities();
    if (auto* egress = browser_->egress()) {
      std::uint64_t dropped = 0;
      const auto records = egress->records_since(egress_mark_, &dropped);
      collect_egress(records, dropped, evidence().started_at_ms, context_);
    }
    if (!outcome_.browser_retired.empty() && *home_ == browser_) home_->reset();
  }
  evidence().elapsed_ms = util::to_ms(Clock::now() - started_);
}

// Disposes of the context and hands the event stream back. Returns why the browser cannot serve
// the next site ("" when it can), after closing it.
asio::awaitable<std::string> Visit::release_browser() {
  std::string retire;
  if (connection_done_ || !browser_->alive()) retire = "connection lost";
  else if (crashed() || evidence().status == Status::crash) retire = "crash";
  else if (evidence().status == Status::timeout) retire = "hang";
  else if (!outcome_.tool_error.empty()) retire = "setup failed";
  if (retire.empty() && !context_id_.empty()) {
    auto disposed = co_await browser_->targets().dispose_context(context_id_, kDisposeTimeout);
    if (!disposed) {
      spdlog::debug("context not disposed: {}", disposed.error().describe());
      retire = "hang";
    }
  }
  if (scripts_) scripts_->stop();
  if (http_) http_->stop();
  if (profiler_) profiler_->stop();
  // Child tasks see their targets go (or the connection close); wait for them so none outlives what
  // it references, and so none talks to the next site's targets.
  if (!retire.empty()) co_await browser_->close();
  co_await signal_.wait_for([this] { return tasks_ == 0; }, Clock::now() + kCloseGrace);
  if (retire.empty() && tasks_ > 0) {
    retire = "hang";
    co_await browser_->close();
  }
  browser_->release_events();
  co_return retire;
}

// What the connection dropped or repaired during this visit, as evidence counters.
void Visit::count_connection_oddities() {
  const auto& counters = browser_->connection().counters();
  auto delta = [](std::uint64_t now, std::uint64_t before) { return now > before ? now - before : 0; };
  if (auto n = delta(counters.unknown_session_events, counters_at_start_.unknown_session_events))
    context_.count("unknown_session_events", n);
  if (auto n = delta(counters.bad_messages, counters_at_start_.bad_messages)) context_.count("bad_cdp_messages", n);
  if (auto n = delta(counters.lone_surrogates_replaced, counters_at_start_.lone_surrogates_replaced))
    context_.count("lone_surrogates_replaced", n);
  if (auto n = delta(counters.handler_errors, counters_at_start_.handler_errors)) context_.count("handler_errors", n);
}

}  // namespace

asio::awaitable<VisitOutcome> visit(std::shared_ptr<cdp::Browser>& browser, std::string input, std::string url,
                                    const VisitOptions& options) {
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<Visit>(&browser, std::move(input), std::move(url), options, executor);
  co_await state->run();
  co_return state->take_outcome();
}

asio::awaitable<VisitOutcome> visit(std::string input, std::string url, const VisitOptions& options) {
  std::shared_ptr<cdp::Browser> browser;
  auto outcome = co_await visit(browser, std::move(input), std::move(url), options);
  if (browser) co_await browser->close();
  co_return outcome;
}

}  // namespace crawler
