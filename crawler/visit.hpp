// crawler/visit.hpp — one site, in a fresh browser context, full instrumentation, evidence out.
//
// A visit opens a fresh context in the slot's sandboxed Chrome (launching one if there is none),
// has every target the page creates (workers, cross-site iframes, popups, shared and service
// workers) attached and wired, collects scripts, WebSockets, frames and remote IPs, samples renderer
// CPU from the load event until the verdict is settled, and disposes of the context. With one site at
// a time per browser, every renderer's CPU is the site's. It produces `blacklist::Evidence` plus the
// CPU rule's outcome; judging and storing happen elsewhere.
//
// The controller (visit.cpp) runs the steps and decides when the visit settles; the parts that
// collect are target_tracker, script_collector, network_collector and cpu_sampler (visit_context.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "blacklist/cpu_rule.hpp"
#include "blacklist/detector.hpp"
#include "blacklist/evidence.hpp"
#include "blacklist/scan_cache.hpp"
#include "cdp/browser.hpp"
#include "cdp/chrome_process.hpp"
#include "cdp/commands.hpp"
#include "crawler/navigation.hpp"  // worth_http_fallback
#include "crawler/visit_context.hpp"
#include "util/worker.hpp"

namespace crawler {

// Makes the browser a visit runs in when the slot has none. Default: cdp::Browser::launch.
using BrowserFactory =
    std::function<boost::asio::awaitable<util::Result<std::shared_ptr<cdp::Browser>>>(const cdp::LaunchOptions&)>;

struct VisitOptions {
  cdp::LaunchOptions launch;
  BrowserFactory browser_factory;                   // null: launch Chrome
  std::chrono::milliseconds site_deadline{45'000};  // launch + load + sampling
  std::chrono::milliseconds load_timeout{15'000};   // sampling starts at load, or at this deadline
  std::chrono::milliseconds sample_period{500};
  blacklist::CpuRule cpu_rule;
  VisitLimits limits;
  // Examines sources and frames as they arrive and decides when the visit is settled. Not owned;
  // must outlive the visit. Null: an empty detector (the CPU rule and sockets only).
  const blacklist::Detector* detector = nullptr;
  // Keyword findings of scripts scanned on earlier sites, by content hash: a script seen before is
  // not read again. Not owned; shared by a crawl's slots, made with its Detector. Null: every visit
  // reads every script (`check`, and `crawl --script-cache 0`).
  blacklist::ScanCache* scan_cache = nullptr;
  // Where sources are decoded and scanned, off the event loop. Not owned. Null: on the loop.
  util::WorkerThread* scanner = nullptr;
  // A light synthetic interaction after load (mouse moves, a wheel scroll), for miners that wait
  // for a visitor's first gesture. --no-interaction turns it off.
  bool interact = true;
  // Stop sampling as soon as the verdict cannot change (the default). Off (--no-early-stop), every
  // visit samples exactly one CPU window: the original method, kept as the benchmark's baseline.
  bool early_stop = true;
  // CPU blamed on code (crawler/code_profiler): a busy renderer, or a module with mining structure,
  // gets a short V8 profile of every JavaScript target. --no-profile turns it off.
  bool profile_hot_code = true;
};

struct VisitOutcome {
  blacklist::Evidence evidence;
  blacklist::CpuOutcome cpu;
  // Set when cjcrawl itself could not run the visit (Chrome missing or failing to start): the site
  // was not checked, and this is the message for the user.
  std::string tool_error;
  bool browser_launched = false;  // this visit launched the browser it ran in
  // Set when the visit closed its browser, which must not serve another site: "crash",
  // "connection lost", "hang" (the site deadline, or a context that would not go) or "setup failed".
  std::string browser_retired;
  // The processes Chrome reported at the last CPU sample (for the slot's memory cap).
  std::vector<cdp::ProcessInfo> processes;
};

// Runs one visit of `url` (already normalised, http or https) in `browser`, which is launched first
// when null and reset when the visit retires it. `input` is what the user typed.
boost::asio::awaitable<VisitOutcome> visit(std::shared_ptr<cdp::Browser>& browser, std::string input, std::string url,
                                           const VisitOptions& options);

// One visit in a browser of its own, closed afterwards (`cjcrawl check`).
boost::asio::awaitable<VisitOutcome> visit(std::string input, std::string url, const VisitOptions& options);

}  // namespace crawler
