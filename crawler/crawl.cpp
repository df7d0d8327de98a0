// crawler/crawl.cpp — see crawl.hpp. Slots are coroutines on one single-threaded io_context; each
// takes the next site from a shared cursor, so a slow site never holds up the others.
#include "crawler/crawl.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "crawler/chrome_memory.hpp"
#include "crawler/metrics.hpp"
#include "crawler/report.hpp"
#include "util/clock.hpp"
#include "util/worker.hpp"

namespace crawler {

namespace asio = boost::asio;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kRecordTries = 4;  // a busy database: after 5 s of busy timeout, wait 1, 2, 3 s more
// The metrics' PSS of a slot's Chrome: read at most this often (milliseconds of CPU per read).
constexpr std::chrono::seconds kPssMetricEvery{60};
// A shared crawl's queue gauges: read from the database at most this often.
constexpr std::chrono::seconds kQueueMetricEvery{30};

// Worth another visit (--retries): the browser's or the network's fault, not the site's answer.
bool worth_retry(const VisitOutcome& outcome) {
  return !outcome.tool_error.empty() || outcome.evidence.status == blacklist::Status::crash ||
         outcome.evidence.status == blacklist::Status::connection_error;
}

// Counts against a slot's failure budget. DNS errors, HTTP errors, redirect loops and a site on a
// private network (blocked) are the site's own answer; a slot failing at everything else again and again is broken.
bool slot_failure(const VisitOutcome& outcome) {
  if (!outcome.tool_error.empty()) return true;
  switch (outcome.evidence.status) {
    case blacklist::Status::ok:
    case blacklist::Status::dns_error:
    case blacklist::Status::http_error:
    case blacklist::Status::redirect_loop:
    case blacklist::Status::blocked: return false;
    default: return true;
  }
}

// A slot's Chrome, with what the slot tracks to recycle it.
struct SlotBrowser {
  std::shared_ptr<cdp::Browser> browser;
  int sites = 0;                                // sites visited in it, for recycling every M
  std::optional<ChromeMemory> memory;           // its processes, for the memory cap
  int slot = 0;                                 // 1-based, the metrics' label
  std::optional<Clock::time_point> pss_read{};  // when the metrics last read its PSS
};

struct CrawlState {
  db::Store& store;  // used on database_thread only, while the crawl runs
  util::WorkerThread* database_thread;
  const blacklist::Detector& detector;
  std::int64_t crawl_id;
  const std::vector<CrawlTarget>& targets;
  const CrawlOptions& options;
  const std::function<bool(const std::string&)>& on_line;
  std::size_t total;
  std::size_t already_done;

  std::map<std::int64_t, std::int64_t> leases{};  // a shared crawl's sites in flight: position → attempt
  bool database_unreachable = false;              // a shared crawl waits for its database

  std::size_t next = 0;   // the next target to take
  int active_slots = 0;   // slots still running
  int busy = 0;           // visits in flight
  bool stopping = false;  // Ctrl-C, or an abort: take no new site
  Clock::time_point started{Clock::now()};
  CrawlSummary summary{};
  std::string last_progress{};

  // The metrics, if any, moved with the summary.
  CrawlMetrics* metrics() const { return options.metrics; }
  void add_busy(int delta) {
    busy += delta;
    if (metrics()) metrics()->visits_in_flight(busy);
  }
  void note_slots() {
    if (metrics()) metrics()->slots(active_slots, static_cast<int>(summary.slots_stopped));
  }
  void note_leases() {
    if (metrics()) metrics()->leases_held(leases.size());
  }
  void note_replaced(const std::string& why) {
    ++summary.browsers_retired[why];
    if (metrics()) metrics()->browser_replaced(why);
  }
  void note_not_checked() {
    ++summary.not_checked;
    if (metrics()) metrics()->not_checked();
  }

  void print_progress(bool final_line = false) {
    if (!options.progress) return;
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const std::size_t done_now = summary.recorded;
    const std::size_t done = already_done + done_now;
    const double per_minute = seconds > 0 ? static_cast<double>(done_now) * 60.0 / seconds : 0;
    const std::size_t left = total > done ? total - done : 0;
    std::string eta = "--:--";
    if (per_minute > 0) {
      const auto eta_seconds = static_cast<long>(static_cast<double>(left) / per_minute * 60);
      eta = fmt::format("{}:{:02}:{:02}", eta_seconds / 3600, eta_seconds / 60 % 60, eta_seconds % 60);
    }
    const auto verdict = [&](const char* name) {
      const auto it = summary.verdicts.find(name);
      return it == summary.verdicts.end() ? std::size_t{0} : it->second;
    };
    std::string text = options.shared
                           ? fmt::format("{} sites recorded by this worker · {:.1f}/min", done_now, per_minute)
                           : fmt::format("{}/{} sites · {:.1f}/min · ETA {}", done, total, per_minute, eta);
    text += fmt::format(" · cryptojacking {} · suspicious {} · clean {} · errors {} · slots {}/{}",
                        verdict("cryptojacking"), verdict("suspicious"), verdict("clean"),
                        summary.failures + summary.not_checked + summary.released, busy, options.concurrency);
    if (database_unreachable) text += " · database unreachable, retrying";
    if (text == last_progress && !final_line) return;
    last_progress = text;
    std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), final_line ? "\n" : "");
    std::fflush(stderr);
  }

  // One visit in the slot's browser, then the slot's side of recycling: every M sites, or when
  // Chrome's process tree has grown past the cap. (The visit itself retires a crashed or hung one.)
  asio::awaitable<VisitOutcome> visit_in(SlotBrowser& slot, const CrawlTarget& target, const std::string& url) {
    auto outcome = co_await visit(slot.browser, target.input, url, options.visit);
    if (outcome.browser_launched) {
      ++summary.browsers_launched;
      if (metrics()) metrics()->browser_launched();
      slot.sites = 0;
      slot.memory.emplace(slot.browser ? slot.browser->pid() : 0);
      slot.pss_read.reset();
    }
    if (!outcome.browser_retired.empty()) {
      note_replaced(outcome.browser_retired);
      co_return outcome;
    }
    if (!slot.browser) co_return outcome;
    ++slot.sites;
    if (slot.memory) slot.memory->note_processes(outcome.processes);
    // The metric's PSS: a fresh Chrome's after its first site, then once a minute.
    if (metrics() && slot.memory && (!slot.pss_read || Clock::now() - *slot.pss_read >= kPssMetricEvery)) {
      slot.pss_read = Clock::now();
      if (const auto pss = slot.memory->pss()) metrics()->chrome_pss(slot.slot, *pss);
    }
    // The slot's last site: its browser is closed next anyway, not replaced.
    if ((!options.shared && next >= targets.size()) || stopping) co_return outcome;
    std::string why;
    if (slot.sites >= options.recycle_after) {
      why = "sites";
    } else if (const auto pss = slot.memory ? slot.memory->pss_over(options.memory_cap_bytes) : std::nullopt) {
      why = "memory";
      if (metrics()) metrics()->chrome_pss(slot.slot, *pss);
      spdlog::info("Chrome's processes use {} MB (PSS), over the {} MB cap: replacing the browser", *pss >> 20,
                   options.memory_cap_bytes >> 20);
    }
    if (!why.empty()) {
      note_replaced(why);
      co_await slot.browser->close();
      slot.browser.reset();
    }
    co_return outcome;
  }

  // One site: its candidates, its retries, then the record and the line. false: a failure for the
  // slot's budget.
  asio::awaitable<bool> visit_site(SlotBrowser& browser, const CrawlTarget& target, std::int64_t lease_attempt = 0) {
    int attempt = 0;
    auto outcome = co_await visit_with_retries(browser, target, attempt);
    // A shared crawl gives an attempt that could not check the site back to the queue: another
    // worker (another machine, another Chrome) may succeed, and --max-attempts bounds the tries.
    if (lease_attempt > 0 && (!outcome.tool_error.empty() || outcome.evidence.status == blacklist::Status::crash)) {
      // A named string, not a temporary in the co_await: GCC 12 destroys such temporaries twice.
      std::string error = outcome.tool_error;
      if (error.empty()) error = fmt::format("Chrome crashed on every retry ({})", outcome.evidence.status_reason);
      co_await release(target, lease_attempt, error);
      co_return false;
    }
    if (!outcome.tool_error.empty()) {
      note_not_checked();
      spdlog::error("{} (line {}): not checked: {}", terminal_safe(target.input), target.line, outcome.tool_error);
      co_return false;
    }
    const auto judgement = detector.judge(outcome.evidence, options.visit.cpu_rule, outcome.cpu);
    auto report = report_json(outcome.evidence, judgement, options.visit.cpu_rule, outcome.cpu);
    const int recorded_attempt = lease_attempt > 0 ? static_cast<int>(lease_attempt) : attempt;
    report["crawl_id"] = crawl_id;
    report["attempt"] = recorded_attempt;
    report["input_line"] = target.line;
    db::Store::CrawlSite site;
    site.crawl_id = crawl_id;
    site.position = static_cast<std::int64_t>(target.line);
    site.attempt = recorded_attempt;
    site.lease_attempt = lease_attempt;
    site.line = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const Recorded recorded = co_await record(outcome.evidence, judgement, site, target);
    if (recorded == Recorded::dropped) co_return true;  // the site is another worker's now
    if (recorded != Recorded::yes) co_return false;
    write_line(site.line, judgement, outcome.evidence);
    co_return !slot_failure(outcome);
  }

  // The site's line, once committed; and the counts of the summary.
  void write_line(const std::string& line, const blacklist::Judgement& judgement, const blacklist::Evidence& evidence) {
    // Committed: now the line. A kill -9 between the two is repaired by --resume.
    if (!on_line(line)) {
      summary.aborted = true;
      summary.abort_reason = options.shared
                                 ? "writing the JSON lines failed (disk full?); the database has every recorded site, "
                                   "and `cjcrawl crawl-lines` writes them"
                                 : "writing the JSON lines failed (disk full?); the database has every recorded site, "
                                   "and --resume --out FILE repairs the file";
      stopping = true;
    }
    ++summary.recorded;
    ++summary.verdicts[blacklist::to_string(judgement.verdict)];
    ++summary.statuses[blacklist::to_string(evidence.status)];
    if (metrics()) metrics()->recorded(blacklist::to_string(judgement.verdict), blacklist::to_string(evidence.status));
    if (evidence.status != blacklist::Status::ok) ++summary.failures;
  }

  // ---- A shared crawl's queue (db/queue.hpp), always on the database thread.

  // How long to wait before asking an unreachable database again: 0.5 s, doubling, at most 15 s.
  static std::chrono::milliseconds backoff(int tries) {
    return std::min<std::chrono::milliseconds>(std::chrono::milliseconds(500L << std::min(tries, 5)),
                                               std::chrono::seconds(15));
  }

  asio::awaitable<void> pause(std::chrono::milliseconds how_long) {
    asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
    co_await timer.async_wait(asio::use_awaitable);
  }

  void note_database_away(const util::Error& error) {
    if (database_unreachable) return;
    database_unreachable = true;
    if (metrics()) metrics()->database_unreachable(true);
    spdlog::warn("database unreachable, retrying ({})", error.describe());
    print_progress();
  }

  void note_database_back() {
    if (!database_unreachable) return;
    database_unreachable = false;
    if (metrics()) metrics()->database_unreachable(false);
    spdlog::info("database reachable again");
    print_progress();
  }

  // The next site of the queue; nullopt when the crawl stops (Ctrl-C, or a database failure other
  // than being away, which aborts the crawl). An unreachable database is waited for, with backoff.
  asio::awaitable<std::optional<db::CrawlQueue::Claim>> claim_next() {
    const SharedCrawl& shared = *options.shared;
    for (int tries = 0; !stopping; ++tries) {
      // Pointers only in jobs' captures: GCC 12 mis-destroys a coroutine's lambda temporaries that own
      // strings or vectors (seen here as a double free).
      auto claimed = co_await database_thread->run([shared = &shared, id = crawl_id] {
        return shared->queue->claim(id, shared->owner, shared->lease, shared->max_attempts);
      });
      if (claimed.ok()) {
        note_database_back();
        co_return std::move(claimed).value();
      }
      const util::Error& failure = claimed.error();
      if (failure.code != util::ErrorCode::unavailable && !failure.transient()) {
        summary.aborted = true;
        summary.abort_reason = fmt::format("the database could not hand out a site: {}", failure.describe());
        stopping = true;
        co_return std::nullopt;
      }
      note_database_away(failure);
      co_await pause(backoff(tries));
    }
    co_return std::nullopt;
  }

  // An attempt that ends without a record: back to the queue with its error. If the database is
  // away, the lease simply lapses and the next claim takes the site: nothing is lost either way.
  asio::awaitable<void> release(const CrawlTarget& target, std::int64_t attempt, const std::string& error) {
    spdlog::warn("{} (line {}): attempt {} could not check it, back to the queue: {}", terminal_safe(target.input),
                 target.line, attempt, error);
    ++summary.released;
    if (metrics()) metrics()->released();
    for (int tries = 0; tries < 5; ++tries) {
      auto released = co_await database_thread->run([queue = options.shared->queue, id = crawl_id,
                                                     position = static_cast<std::int64_t>(target.line), attempt,
                                                     &error] { return queue->release(id, position, attempt, error); });
      if (released.ok()) co_return;
      if (released.error().code != util::ErrorCode::unavailable) {
        spdlog::error("{} (line {}): releasing attempt {} failed ({}); its lease lapses instead",
                      terminal_safe(target.input), target.line, attempt, released.error().describe());
        co_return;
      }
      note_database_away(released.error());
      co_await pause(backoff(tries));
    }
  }

  // A site no attempt could check in --max-attempts: recorded `failed` with the last error, under
  // the claim's own attempt (fenced like any record).
  asio::awaitable<void> record_failed(const CrawlTarget& target, const db::CrawlQueue::Claim& claim) {
    blacklist::Evidence evidence;
    evidence.input = target.input;
    if (auto urls = parse_input(target.input); urls && !urls->empty()) evidence.url = urls->front();
    evidence.status = blacklist::Status::failed;
    evidence.status_reason = fmt::format("no attempt could check it in {} attempt(s); the last: {}", claim.attempt - 1,
                                         claim.last_error.empty() ? "(no error recorded)" : claim.last_error);
    evidence.started_at_ms = util::wall_ms();
    const blacklist::CpuOutcome no_cpu{};
    const auto judgement = detector.judge(evidence, options.visit.cpu_rule, no_cpu);
    auto report = report_json(evidence, judgement, options.visit.cpu_rule, no_cpu);
    report["crawl_id"] = crawl_id;
    report["attempt"] = claim.attempt;
    report["input_line"] = target.line;
    db::Store::CrawlSite site;
    site.crawl_id = crawl_id;
    site.position = claim.position;
    site.attempt = static_cast<int>(claim.attempt);
    site.lease_attempt = claim.attempt;
    site.line = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    spdlog::warn("{} (line {}): failed: {}", terminal_safe(target.input), target.line, evidence.status_reason);
    if (co_await record(evidence, judgement, site, target) == Recorded::yes) write_line(site.line, judgement, evidence);
  }

  // Every lease in flight renewed every lease / 3, so a live worker never loses one; a worker that
  // dies stops renewing and its sites go to others once the lease lapses.
  asio::awaitable<void> renew_leases(asio::steady_timer& timer) {
    const SharedCrawl& shared = *options.shared;
    const auto every = std::max<std::chrono::milliseconds>(std::chrono::seconds(1), shared.lease / 3);
    std::optional<Clock::time_point> queue_read;
    while (active_slots > 0) {
      if (metrics() && (!queue_read || Clock::now() - *queue_read >= kQueueMetricEvery)) {
        queue_read = Clock::now();
        co_await read_queue_gauges();
      }
      timer.expires_after(every);
      boost::system::error_code cancelled;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
      if (cancelled || active_slots == 0) break;
      if (leases.empty()) continue;
      std::vector<std::pair<std::int64_t, std::int64_t>> held(leases.begin(), leases.end());
      auto lost = co_await database_thread->run(
          [shared = &shared, id = crawl_id, held = &held] { return shared->queue->renew(id, *held, shared->lease); });
      if (!lost) {
        if (lost.error().code == util::ErrorCode::unavailable) note_database_away(lost.error());
        continue;
      }
      note_database_back();
      if (metrics()) metrics()->leases_lost(lost->size());
      for (const auto position : *lost)
        spdlog::warn("line {}: its lease lapsed and another worker took the site; this visit's result will be dropped",
                     position);
    }
    // The queue as this worker leaves it, for a last scrape (--metrics-linger).
    if (metrics()) co_await read_queue_gauges();
  }

  // The queue gauges, read on the database thread (a count over the crawl's queue).
  asio::awaitable<void> read_queue_gauges() {
    auto job = [queue = options.shared->queue, id = crawl_id] {
      return queue->queue_state(id, std::chrono::minutes(5));
    };
    auto state = co_await database_thread->run(std::move(job));
    if (state) metrics()->queue(*state);
    else spdlog::debug("queue gauges: {}", state.error().describe());
  }

  asio::awaitable<void> shared_slot(int index) {
    int consecutive_failures = 0;
    SlotBrowser browser;
    browser.slot = index + 1;
    while (!stopping) {
      auto claim = co_await claim_next();
      if (!claim) break;
      if (claim->kind == db::CrawlQueue::Claim::Kind::finished) {
        summary.queue_finished = true;
        break;
      }
      if (claim->kind == db::CrawlQueue::Claim::Kind::wait) {
        // Sites are leased by live workers (or by this one's other slots): one may be released, or
        // its lease may lapse.
        co_await pause(std::chrono::seconds(1));
        continue;
      }
      CrawlTarget target;
      target.line = static_cast<std::size_t>(claim->position);
      target.input = claim->input;
      target.key = claim->input;
      leases[claim->position] = claim->attempt;
      note_leases();
      add_busy(1);
      bool succeeded = true;
      if (claim->kind == db::CrawlQueue::Claim::Kind::exhausted) co_await record_failed(target, *claim);
      else succeeded = co_await visit_site(browser, target, claim->attempt);
      leases.erase(claim->position);
      note_leases();
      add_busy(-1);
      print_progress();
      if (budget_spent(index, consecutive_failures, succeeded, target)) break;
    }
    if (browser.browser) co_await browser.browser->close();
  }

  // The site's candidates (https, then http for a bare host) and its retries. A crash retires the
  // browser, so a retry runs in a fresh one. `attempt` counts the visits made.
  asio::awaitable<VisitOutcome> visit_with_retries(SlotBrowser& browser, const CrawlTarget& target, int& attempt) {
    VisitOutcome outcome;
    for (int round = 0; round <= options.retries; ++round) {
      for (const auto& url : target.candidates()) {
        ++attempt;
        outcome = co_await visit_in(browser, target, url);
        if (!outcome.tool_error.empty() || !worth_http_fallback(outcome.evidence.status) || stopping) break;
      }
      if (!worth_retry(outcome) || stopping) break;
    }
    co_return outcome;
  }

  // Commits the site (visit, blacklist, crawl progress) on the database's own thread: a commit may
  // wait seconds for a lock another process holds, and the loop samples every slot's CPU meanwhile.
  // A writer elsewhere (an import) may hold the lock longer than the busy timeout: wait and retry a
  // few times before giving up on the crawl. false: not recorded (the crawl stops, or the site is
  // left for a resume).
  enum class Recorded { yes, dropped, no };
  asio::awaitable<Recorded> record(const blacklist::Evidence& evidence, const blacklist::Judgement& judgement,
                                   const db::Store::CrawlSite& site, const CrawlTarget& target) {
    int away = 0;  // tries while the database was unreachable (a shared crawl waits for it)
    for (int tries = 1;; ++tries) {
      auto job = [store = &store, evidence = &evidence, judgement = &judgement, site = &site, metrics = metrics()] {
        const auto began = Clock::now();
        auto committed = store->record_visit(*evidence, *judgement, util::wall_ms(), site);
        if (metrics) metrics->commit_took(std::chrono::duration<double>(Clock::now() - began).count());
        return committed;
      };
      std::optional<util::Result<std::int64_t>> recorded;
      try {
        recorded.emplace(co_await database_thread->run(std::move(job)));
      } catch (const std::exception& e) {
        // Not the database: something about this site's evidence. It stays unrecorded (a resume
        // retries it) and the crawl goes on.
        note_not_checked();
        spdlog::error("{} (line {}): not recorded: {}", terminal_safe(target.input), target.line, e.what());
        co_return Recorded::no;
      }
      if (recorded->ok()) {
        note_database_back();
        co_return Recorded::yes;
      }
      const util::Error& failure = recorded->error();
      if (failure.code == util::ErrorCode::superseded) {
        // Exactly once: the site's current attempt is another worker's, and only it may record.
        ++summary.superseded;
        if (metrics()) metrics()->superseded();
        spdlog::warn("{} (line {}): {}", terminal_safe(target.input), target.line, failure.describe());
        co_return Recorded::dropped;
      }
      if (failure.code == util::ErrorCode::unavailable && options.shared) {
        // The visit is done; it is committed when the database returns, if its attempt is still
        // the site's current one (the fence decides).
        note_database_away(failure);
        co_await pause(backoff(away++));
        --tries;
        continue;
      }
      if (!failure.transient() || tries == kRecordTries) {
        // The database is the truth: without it, going on would lose work. Stop the crawl.
        summary.aborted = true;
        summary.abort_reason =
            fmt::format("the database could not record {}: {}", terminal_safe(target.input), failure.describe());
        stopping = true;
        co_return Recorded::no;
      }
      spdlog::warn("the database is busy ({}); retrying in {} s", failure.describe(), tries);
      auto executor = co_await asio::this_coro::executor;
      asio::steady_timer pause(executor, std::chrono::seconds(tries));
      co_await pause.async_wait(asio::use_awaitable);
    }
  }

  // A slot's failure budget: true when `consecutive` failures (this site's included) pass it, and
  // the slot stops.
  bool budget_spent(int index, int& consecutive, bool succeeded, const CrawlTarget& target) {
    consecutive = succeeded ? 0 : consecutive + 1;
    if (consecutive <= options.failure_budget) return false;
    ++summary.slots_stopped;
    note_slots();
    spdlog::error("slot {} stopped after {} consecutive failures (the last: {}); check Chrome and the network",
                  index + 1, consecutive, terminal_safe(target.input));
    return true;
  }

  asio::awaitable<void> slot(int index) {
    int consecutive_failures = 0;
    SlotBrowser browser;  // launched by the first visit, replaced as crawl.hpp says
    browser.slot = index + 1;
    while (!stopping && next < targets.size()) {
      const CrawlTarget& target = targets[next++];
      add_busy(1);
      const bool succeeded = co_await visit_site(browser, target);
      add_busy(-1);
      print_progress();
      if (budget_spent(index, consecutive_failures, succeeded, target)) break;
    }
    if (browser.browser) co_await browser.browser->close();
  }
};

}  // namespace

CrawlSummary run_crawl(db::Store& store, const blacklist::Detector& detector, std::int64_t crawl_id,
                       const std::vector<CrawlTarget>& targets, const CrawlOptions& options,
                       const std::function<bool(const std::string&)>& on_line, std::size_t total,
                       std::size_t already_done) {
  CrawlOptions run_options = options;
  CrawlState state{store, nullptr, detector, crawl_id, targets, run_options, on_line, total, already_done};
  {
    // The io_context first: the worker threads are joined (a job in flight finishes) before it goes
    // and takes what is left of the slots with it (util/worker.hpp).
    asio::io_context io(1);
    util::WorkerThread database_thread;
    util::WorkerThread scanner;
    if (!run_options.visit.scanner) run_options.visit.scanner = &scanner;
    state.database_thread = &database_thread;
    asio::steady_timer grace(io);
    asio::steady_timer ticker(io);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    // First signal: take no new site, let visits in flight finish within the grace period. A second
    // signal, or the end of the grace, stops at once (the io_context's end tears the visits down).
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& error,
                                                                               int) {
      // A signal that arrives as the last slot ends finds nothing to stop.
      if (error || state.active_slots == 0) return;
      if (state.stopping && state.summary.interrupted) {
        io.stop();
        return;
      }
      state.stopping = true;
      state.summary.interrupted = true;
      if (options.progress) std::fprintf(stderr, "\n");
      spdlog::warn("interrupted: finishing {} visit(s) in flight (up to {} s; Ctrl-C again to stop now)", state.busy,
                   options.interrupt_grace.count() / 1000);
      grace.expires_after(options.interrupt_grace);
      grace.async_wait([&](const boost::system::error_code& cancelled) {
        if (!cancelled && state.active_slots > 0) io.stop();
      });
      signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
    // The progress line also moves between sites (rate and ETA).
    std::function<void(const boost::system::error_code&)> tick = [&](const boost::system::error_code& error) {
      // Queued before the last slot cancelled it: do not re-arm, or io.run() never returns.
      if (error || state.active_slots == 0) return;
      state.print_progress();
      ticker.expires_after(std::chrono::seconds(1));
      ticker.async_wait(tick);
    };
    if (options.progress) tick({});

    const int slots = options.shared
                          ? std::max(1, options.concurrency)
                          : std::max(1, std::min<int>(options.concurrency, static_cast<int>(targets.size())));
    state.active_slots = slots;
    state.note_slots();
    asio::steady_timer renewer(io);
    if (options.shared)
      asio::co_spawn(io, state.renew_leases(renewer), [](std::exception_ptr failure) {
        if (failure) {
          try {
            std::rethrow_exception(failure);
          } catch (const std::exception& e) {
            spdlog::error("lease renewal: {}", e.what());
          }
        }
      });
    for (int index = 0; index < slots; ++index) {
      asio::co_spawn(io, options.shared ? state.shared_slot(index) : state.slot(index),
                     [&, index](std::exception_ptr failure) {
                       if (failure) {
                         try {
                           std::rethrow_exception(failure);
                         } catch (const std::exception& e) {
                           spdlog::error("slot {}: {}", index + 1, e.what());
                         }
                       }
                       --state.active_slots;
                       state.note_slots();
                       if (state.active_slots == 0) {
                         signals.cancel();
                         grace.cancel();
                         ticker.cancel();
                         renewer.cancel();
                       }
                     });
    }
    io.run();
  }
  state.print_progress(true);
  if (!state.summary.aborted && !state.summary.interrupted && state.summary.slots_stopped > 0 &&
      (options.shared ? !state.summary.queue_finished : state.next < targets.size())) {
    state.summary.aborted = true;
    state.summary.abort_reason = "every slot was stopped by its failure budget";
  }
  state.summary.elapsed_seconds = std::chrono::duration<double>(Clock::now() - state.started).count();
  return state.summary;
}

db::Store::SkippedLine skipped_line(const blacklist::Detector& detector, const blacklist::CpuRule& rule,
                                    std::int64_t crawl_id, const InputProblem& problem) {
  blacklist::Evidence evidence;
  evidence.input = problem.text;
  evidence.status = blacklist::Status::skipped;
  evidence.status_reason = "not a site: " + problem.reason;
  const blacklist::CpuOutcome no_cpu{};
  const auto judgement = detector.judge(evidence, rule, no_cpu);
  auto report = report_json(evidence, judgement, rule, no_cpu);
  report["crawl_id"] = crawl_id;
  report["attempt"] = 0;
  report["input_line"] = problem.line;
  db::Store::SkippedLine out;
  out.position = static_cast<std::int64_t>(problem.line);
  out.input = problem.text;
  out.verdict = blacklist::to_string(judgement.verdict);
  out.line = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return out;
}

std::size_t reconcile_output(const std::string& path, std::int64_t crawl_id, const std::vector<std::int64_t>& recorded,
                             const std::function<std::optional<std::string>(std::int64_t)>& line_for) {
  // In place, not through a rename: --out may be a symlink or keep a mode the user chose.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "a+"), &std::fclose);
  if (!file) throw std::runtime_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  std::rewind(file.get());
  // One line at a time; a line is at most a report (bounded evidence), but never trusted to be.
  std::set<std::int64_t> present;
  std::string line;
  long complete_end = 0;  // the offset just past the last newline
  for (int c; (c = std::fgetc(file.get())) != EOF;) {
    if (c != '\n') {
      if (line.size() < (64u << 20)) line += static_cast<char>(c);
      continue;
    }
    complete_end = std::ftell(file.get());
    const auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (parsed.is_object() && parsed.value("crawl_id", std::int64_t{0}) == crawl_id && parsed.contains("input_line") &&
        parsed["input_line"].is_number_integer())
      present.insert(parsed["input_line"].get<std::int64_t>());
    line.clear();
  }
  if (std::ferror(file.get())) throw std::runtime_error(fmt::format("cannot read {}", path));
  // A line without its newline was torn by a kill: it goes, and comes back from the database.
  if (!line.empty() && ::ftruncate(::fileno(file.get()), complete_end) != 0)
    throw std::runtime_error(fmt::format("cannot cut the torn last line of {}: {}", path, std::strerror(errno)));
  std::size_t appended = 0;
  for (const auto position : recorded) {
    if (present.contains(position)) continue;
    const auto text = line_for(position);
    if (!text) continue;
    // "a+" appends at the end whatever the read position.
    if (std::fprintf(file.get(), "%s\n", text->c_str()) < 0)
      throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    ++appended;
  }
  if (std::fflush(file.get()) != 0)
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  return appended;
}

}  // namespace crawler
