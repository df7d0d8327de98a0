// crawler/code_profiler.hpp — CPU blamed on code: when the site's renderer is busy, or runs a Wasm
// module with mining structure, a short V8 profile of every JavaScript target at once (page, frames,
// workers) names the hot functions and blacklist/hot_code says what each one is.
//
// CPU is read per renderer process, and a page's workers share it, so only a profile tells which
// target and which function burn it. Profiles are taken only when something asks (a clean, idle
// site is never profiled) and are short: each round samples every target for `duration` at
// `interval_us`, then the visit goes on. A round holds a benign verdict back until it is done (see
// Visit::may_settle); a settled mining verdict does not wait for it.
//
// Bounded: at most `max_targets` targets per round and `max_rounds` rounds per visit; at most
// `max_records_per_target` hot functions kept per target and kMaxHotCodeRecords per visit; at most
// `max_js_sources` JavaScript sources re-read per round (their size capped as the script collector
// caps it); a profile's call tree is read to cdp::ProfilerStop::kMaxNodes nodes. V8 keeps at most 255
// frames per sample, so a `duration`/`interval_us` of 750 samples bounds a profile's size.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "blacklist/cpu_rule.hpp"
#include "blacklist/hot_code.hpp"
#include "cdp/commands.hpp"
#include "cdp/connection.hpp"
#include "crawler/script_collector.hpp"
#include "crawler/target_tracker.hpp"
#include "crawler/visit_context.hpp"

namespace crawler {

inline constexpr std::size_t kMaxHotCodeRecords = 32;
// A function under this share of a profile's samples is not recorded (it is not what burns the CPU).
inline constexpr double kHotRecordMinShare = 0.03;

class CodeProfiler {
 public:
  struct Options {
    std::chrono::milliseconds duration{1'500};
    int interval_us = 2'000;
    int max_rounds = 2;  // the second only after a first that found no mining code, for late starters
    std::chrono::milliseconds between_rounds{5'000};
    std::size_t max_targets = 8;
    std::size_t max_records_per_target = 4;
    std::size_t max_js_sources = 4;
  };

  CodeProfiler(VisitContext& visit, cdp::Connection& connection, const TargetTracker& targets,
               const ScriptCollector& scripts, const blacklist::CpuRule& rule, Options options);

  // After each CPU sample: starts a round (beside the visit) when something asks for one.
  void consider();
  // A round is running: its findings may still change the verdict.
  bool busy() const { return running_; }
  // The visit is ending: a round's wait is cut short and nothing more is sent, so the visit's
  // close grace is never spent waiting for a profile.
  void stop();

 private:
  std::string trigger() const;  // why a round should start now, or ""
  boost::asio::awaitable<void> run_round(std::string why);
  boost::asio::awaitable<bool> start_profile(const cdp::TargetInfo& target);
  boost::asio::awaitable<void> stop_and_blame(const cdp::TargetInfo& target, int round, std::size_t& js_sources);
  boost::asio::awaitable<blacklist::CodeJudgement> judge_js(const cdp::TargetInfo& target,
                                                            const cdp::ProfiledFunction& function,
                                                            std::size_t& js_sources);

  VisitContext& visit_;
  cdp::Connection& connection_;
  const TargetTracker& targets_;
  const ScriptCollector& scripts_;
  const blacklist::CpuRule& rule_;
  Options options_;
  bool running_ = false;
  bool stopped_ = false;
  boost::asio::steady_timer* waiting_ = nullptr;  // the round's wait, while it waits
  int rounds_ = 0;
  Clock::time_point last_round_end_{};
};

}  // namespace crawler
