// crawler/cpu_sampler.hpp — the visit's CPU: renderer CPU demand, sampled every period.
//
// Renderer CPU for the whole visit: the sum of every renderer's cumulative cpuTime deltas. With one
// site per Chrome at a time, all CPU of the renderers started for the visit's context is the visit's
// (workers run in their page's renderer; cross-site iframes and popups have their own); renderers
// that were running before the context existed are left out. A renderer first seen after the
// baseline counts in full, since it started during the interval; one that disappears stops counting.
// Except Chrome's own WebUI renderer: new headless mode runs its browser UI (omnibox popup, ...) in a
// `--top-chrome-webui` renderer, which no page can run in. Measured: it spent 0.58 CPU-s in the first
// second of a visit to a static page (whose own renderer spent 0.06), so an idle page's first samples
// read 86% and 50%; and a window.open storm kept it near 40% of a core. That is Chrome's work, not
// the page's computation, which is what the CPU rule is about.
//
// Demand, not just share: each renderer's run-queue wait (from /proc/PID/task/TID/schedstat) is added
// to its CPU time. A miner sharing a core with another slot's page gets half a core but waits the
// other half, so it still reads as ~100% busy; an idle page neither runs nor waits. Without this,
// --concurrency above the core count (or any other load on the machine) would read miners as
// throttled. Wait is tracked per thread: a thread's positive wait deltas are summed, a thread first
// seen after the baseline counts in full, and a thread that exits simply stops adding (its past wait
// is not taken back, and the CPU part is clamped on its own). Where schedstat cannot be read (no
// /proc, another PID namespace), the wait is 0 and the rule sees plain CPU time, as before.
// Caveat, measured: when Chrome's own browser process saturates the cores (a 500-popup storm), the
// storm's renderers wait too, and the page reads 62–96% instead of 24–31%: demand the page caused.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cdp/commands.hpp"
#include "cdp/session.hpp"
#include "crawler/run_queue.hpp"
#include "crawler/visit_context.hpp"

namespace crawler {

// Less CPU than this between samples: the renderer was idle (its run-queue wait is read later).
inline constexpr double kIdleRendererCpuSeconds = 0.002;

class RendererCpu {
 public:
  // `earlier`: renderers that were running before the visit's browser context existed. They host an
  // earlier site's (disposed) context, the default context or Chrome's UI, never this site: Chrome
  // gives a context only renderers made for it (a spare renderer is taken only by its own context).
  // One still shutting down after an earlier miner must not count as this site's CPU.
  explicit RendererCpu(std::set<std::int64_t> earlier = {}) : browser_ui_(std::move(earlier)) {}

  // The visit's cumulative CPU demand (seconds) after this reading of Chrome's processes.
  double update(const std::vector<cdp::ProcessInfo>& processes);
  // Run-queue wait included so far (seconds), for the evidence counters.
  double waited_seconds() const { return waited_; }

 private:
  // Whether a renderer may hold the site's work (not Chrome's UI, not an earlier site's).
  bool is_site_renderer(std::int64_t pid);
  // A renderer's wait added since the last reading; its threads' waits go into `now_waits`.
  double wait_added(std::int64_t pid, double cpu_delta, bool known_cpu,
                    std::map<std::int64_t, std::map<std::int64_t, double>>& now_waits);

  std::map<std::int64_t, double> last_cpu_;
  std::map<std::int64_t, std::map<std::int64_t, double>> last_waits_;
  ThreadWaitReader wait_reader_;
  std::set<std::int64_t> browser_ui_;  // renderers hosting Chrome's own WebUI, and earlier renderers
  std::set<std::int64_t> web_;         // renderers known to host web content
  double cumulative_ = 0;
  double waited_ = 0;
  bool first_ = true;
};

// The renderers Chrome runs now (SystemInfo.getProcessInfo): those running before a site's context
// exists are not the site's (see RendererCpu). Empty when Chrome does not answer.
boost::asio::awaitable<std::set<std::int64_t>> running_renderers(cdp::Session browser);

// Takes the visit's CPU samples into its evidence: a baseline, then one per call, each the
// cumulative demand of the site's renderers since the baseline.
class CpuSampler {
 public:
  CpuSampler(VisitContext& visit, cdp::Session browser, std::set<std::int64_t> earlier_renderers,
             std::chrono::milliseconds sample_period);
  // One sample (the first is the baseline). false when Chrome did not answer in time.
  boost::asio::awaitable<bool> sample();
  // The processes Chrome reported at the last sample (for the memory cap, after the visit).
  const std::vector<cdp::ProcessInfo>& processes() const { return processes_; }

 private:
  VisitContext& visit_;
  cdp::Session browser_;
  std::chrono::milliseconds sample_period_;
  RendererCpu renderer_cpu_;
  Clock::time_point started_ = Clock::now();
  std::vector<cdp::ProcessInfo> processes_;
};

}  // namespace crawler
