// crawler/visit_context.hpp — what the parts of one visit share.
//
// A visit is a controller (visit.cpp) and parts with one job each: the site's targets
// (target_tracker), its scripts and Wasm (script_collector), its network and sockets
// (network_collector) and its CPU (cpu_sampler). They share the evidence they fill, the limits that
// bound it, the navigation's start time, and two ways to reach the controller: a task run beside the
// visit (which the visit outlives), and a nudge to whoever waits for the visit's state to change.
// Unit tests build one around their own Evidence and io_context, with no Chrome.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "blacklist/evidence.hpp"

namespace crawler {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Everything a visit keeps from the page is bounded by these; drops are counted in the evidence.
struct VisitLimits {
  std::uint64_t max_script_source_bytes = 8u << 20;  // per script; longer ones are recorded `oversize`
  std::uint64_t max_total_source_bytes = 64u << 20;  // per visit, over all fetched sources
  std::size_t max_scripts = 2'000;                   // script records kept per visit
  std::size_t max_pending_source_fetches = 256;      // queued Debugger.getScriptSource calls
  std::size_t max_targets = 64;                      // instrumented targets; more are only resumed
  std::size_t max_target_records = 256;              // target records kept (instrumented or not)
  std::size_t max_websockets = 64;                   // socket records kept per visit
  std::size_t max_frames_per_socket = 20;            // frames stored per socket (all are counted)
  std::size_t max_frame_payload_bytes = 2'048;       // stored prefix of each frame
  std::size_t max_remote_ips = 256;
  std::size_t max_blocked_connections = 64;              // distinct host:port refused by the egress guard
  std::size_t max_http_channels = 32;                    // HTTP endpoints with pool traffic kept per visit
  std::size_t max_http_samples = 5;                      // messages stored per such endpoint
  std::size_t max_http_pending = 256;                    // worker responses and event streams awaited at once
  std::size_t max_http_bodies = 64;                      // worker response bodies read per visit
  std::uint64_t max_http_body_bytes = 16u << 10;         // per body (request or response) examined
  std::uint64_t max_http_body_total_bytes = 256u << 10;  // per visit, over response bodies read
};

class VisitContext {
 public:
  VisitContext(blacklist::Evidence& evidence, const VisitLimits& limits) : evidence_(evidence), limits_(limits) {}
  VisitContext(const VisitContext&) = delete;
  VisitContext& operator=(const VisitContext&) = delete;

  blacklist::Evidence& evidence() { return evidence_; }
  const VisitLimits& limits() const { return limits_; }

  void count(std::string_view counter, std::uint64_t by = 1) { evidence_.counters[std::string(counter)] += by; }
  // The visit's status; the first cause other than an HTTP error wins (an error page is still
  // analysed, so a later crash or timeout says more).
  void set_status(blacklist::Status status, std::string reason) {
    if (evidence_.status != blacklist::Status::ok && evidence_.status != blacklist::Status::http_error) return;
    evidence_.status = status;
    evidence_.status_reason = std::move(reason);
  }

  // When the navigation started: frames and events are timed from here.
  Clock::time_point navigation_started() const { return navigation_started_; }
  void start_navigation(Clock::time_point at) { navigation_started_ = at; }

  // Runs `task` beside the visit; the visit (and what the parts reference) outlives it.
  void spawn(boost::asio::awaitable<void> task) { spawner_(std::move(task)); }
  // Wakes whoever waits for the visit's state (a load, a target wired, a fetch done).
  void notify() { notifier_(); }

  void set_spawner(std::function<void(boost::asio::awaitable<void>)> spawner) { spawner_ = std::move(spawner); }
  void set_notifier(std::function<void()> notifier) { notifier_ = std::move(notifier); }

 private:
  blacklist::Evidence& evidence_;
  const VisitLimits& limits_;
  Clock::time_point navigation_started_ = Clock::now();
  std::function<void(boost::asio::awaitable<void>)> spawner_ = [](boost::asio::awaitable<void>) {};
  std::function<void()> notifier_ = [] {};
};

}  // namespace crawler
