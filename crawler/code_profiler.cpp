// crawler/code_profiler.cpp — when to profile, the round itself, and blaming each hot function.
//
// g++ 12 coroutine rules as in visit.cpp: no co_await inside a condition, commands as named locals.
#include "crawler/code_profiler.hpp"

#include <algorithm>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cdp/session.hpp"

namespace crawler {
namespace {

constexpr std::chrono::milliseconds kProfilerCallTimeout{5'000};

// Workers first (where miners run), then frames, then pages; attach order within each.
std::vector<cdp::TargetInfo> pick_targets(const std::vector<cdp::TargetInfo>& targets, std::size_t most) {
  std::vector<cdp::TargetInfo> out;
  for (int pass = 0; pass < 3 && out.size() < most; ++pass)
    for (const auto& target : targets) {
      const int rank = cdp::is_worker_type(target.type) ? 0 : target.type == "iframe" ? 1 : 2;
      if (rank == pass && out.size() < most) out.push_back(target);
    }
  return out;
}

bool looks_like_wasm(const cdp::ProfiledFunction& function) {
  return function.function_name.starts_with("wasm-function[") || function.url.starts_with("wasm://");
}

}  // namespace

CodeProfiler::CodeProfiler(VisitContext& visit, cdp::Connection& connection, const TargetTracker& targets,
                           const ScriptCollector& scripts, const blacklist::CpuRule& rule, Options options)
    : visit_(visit), connection_(connection), targets_(targets), scripts_(scripts), rule_(rule), options_(options) {}

void CodeProfiler::stop() {
  stopped_ = true;
  if (waiting_) waiting_->cancel();
}

void CodeProfiler::consider() {
  if (stopped_) return;
  auto why = trigger();
  if (why.empty()) return;
  running_ = true;
  visit_.spawn(run_round(std::move(why)));
}

// A round when the renderer's last interval passed the CPU threshold, or when a module with mining
// structure was read (a throttled miner may never pass the threshold). A second round only after a
// pause, and only if the first found no mining code: a miner that starts late gets its look.
std::string CodeProfiler::trigger() const {
  if (running_ || rounds_ >= options_.max_rounds || targets_.script_targets().empty()) return {};
  const auto& evidence = visit_.evidence();
  if (rounds_ > 0) {
    if (Clock::now() - last_round_end_ < options_.between_rounds) return {};
    if (blacklist::summarize_hot_code(evidence.hot_code).mining()) return {};
  }
  const auto percentages = blacklist::interval_percentages(evidence.cpu_samples);
  if (!percentages.empty() && percentages.back() > rule_.threshold_percent)
    return fmt::format("renderer CPU {:.0f}% of a core", percentages.back());
  for (const auto& script : evidence.scripts)
    if (script.wasm_miner) return "a Wasm module with mining-hash structure";
  return {};
}

boost::asio::awaitable<void> CodeProfiler::run_round(std::string why) {
  const int round = ++rounds_;
  visit_.evidence().profiles = round;
  visit_.count("profile_rounds");
  spdlog::debug("profiling round {}: {}", round, why);
  std::vector<cdp::TargetInfo> started;
  for (const auto& target : pick_targets(targets_.script_targets(), options_.max_targets)) {
    if (stopped_) break;
    const bool ok = co_await start_profile(target);
    if (ok) started.push_back(target);
  }
  if (!started.empty() && !stopped_) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, options_.duration);
    waiting_ = &timer;
    boost::system::error_code cancelled;  // (stop() cancels the wait)
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, cancelled));
    waiting_ = nullptr;
  }
  std::size_t js_sources = 0;
  for (const auto& target : started)
    if (!stopped_) co_await stop_and_blame(target, round, js_sources);
  last_round_end_ = Clock::now();
  running_ = false;
  visit_.notify();
}

boost::asio::awaitable<bool> CodeProfiler::start_profile(const cdp::TargetInfo& target) {
  const cdp::Session session(connection_, target.session_id);
  auto failed = [this](const util::Error& error) {
    visit_.count(cdp::target_gone(error) ? "profile_target_gone" : "profile_failed");
    return false;
  };
  const cdp::ProfilerEnable enable;
  auto enabled = co_await session.send(enable, kProfilerCallTimeout);
  if (!enabled) co_return failed(enabled.error());
  const cdp::ProfilerSetSamplingInterval interval{options_.interval_us};
  auto set = co_await session.send(interval, kProfilerCallTimeout);
  if (!set) co_return failed(set.error());
  const cdp::ProfilerStart start;
  auto started = co_await session.send(start, kProfilerCallTimeout);
  if (!started) co_return failed(started.error());
  co_return true;
}

// Stops one target's profile and records its hot functions, hottest first.
boost::asio::awaitable<void> CodeProfiler::stop_and_blame(const cdp::TargetInfo& target, int round,
                                                          std::size_t& js_sources) {
  const cdp::Session session(connection_, target.session_id);
  const cdp::ProfilerStop stop;
  auto profile = co_await session.send(stop, kProfilerCallTimeout);
  const cdp::ProfilerDisable disable;
  co_await session.send(disable, kProfilerCallTimeout);  // (a failure leaves only an idle profiler)
  if (!profile) {
    visit_.count(cdp::target_gone(profile.error()) ? "profile_target_gone" : "profile_failed");
    co_return;
  }
  if (profile->truncated) visit_.count("profile_truncated");
  if (profile->total_samples == 0) co_return;
  std::size_t kept = 0;
  for (const auto& function : profile->functions) {
    const double share = static_cast<double>(function.samples) / static_cast<double>(profile->total_samples);
    if (share < kHotRecordMinShare || kept == options_.max_records_per_target) break;
    if (visit_.evidence().hot_code.size() >= kMaxHotCodeRecords) {
      visit_.count("hot_code_not_stored");
      break;
    }
    blacklist::HotCodeRecord hot{target.type,   target.url,      "JavaScript", function.url, "", function.function_name,
                                 function.line, function.column, share,        "",           "", round};
    blacklist::CodeJudgement judgement;
    const blacklist::ScriptRecord* script = scripts_.find(target.session_id, function.script_id);
    const bool wasm = script ? script->language == "WebAssembly" : looks_like_wasm(function);
    if (wasm) {
      hot.language = "WebAssembly";
      if (script) hot.wasm_sha256 = script->sha256;
      judgement = script ? blacklist::judge_wasm_code(*script, static_cast<std::uint32_t>(std::max(0, function.column)))
                         : blacklist::CodeJudgement{blacklist::CodeKind::unknown, "module not recorded"};
    } else {
      judgement = co_await judge_js(target, function, js_sources);  // (`script` may dangle after this)
    }
    hot.code = std::string(blacklist::to_string(judgement.kind));
    hot.why = std::move(judgement.why);
    visit_.evidence().hot_code.push_back(std::move(hot));
    ++kept;
  }
}

// A JavaScript function is judged by its own text, read again from Chrome: sources are dropped once
// scanned, and only profiled sites pay for this (at most max_js_sources reads a round, each capped).
boost::asio::awaitable<blacklist::CodeJudgement> CodeProfiler::judge_js(const cdp::TargetInfo& target,
                                                                        const cdp::ProfiledFunction& function,
                                                                        std::size_t& js_sources) {
  using blacklist::CodeKind;
  if (function.script_id.empty() || function.line < 0)
    co_return blacklist::CodeJudgement{CodeKind::unknown, "no script"};
  int line = function.line;
  int column = function.column;
  if (const auto* script = scripts_.find(target.session_id, function.script_id)) {
    if (script->length > visit_.limits().max_script_source_bytes)
      co_return blacklist::CodeJudgement{CodeKind::unknown, "script over the source size cap"};
    // An inline script's positions count from the document's start.
    if (line == script->start_line) column -= script->start_column;
    line -= script->start_line;
  }
  if (js_sources >= options_.max_js_sources)
    co_return blacklist::CodeJudgement{CodeKind::unknown, "source not read (per-round budget spent)"};
  ++js_sources;
  const cdp::Session session(connection_, target.session_id);
  const cdp::DebuggerGetScriptSource get_source{function.script_id};
  auto reply = co_await session.send(get_source, kProfilerCallTimeout);
  if (!reply) co_return blacklist::CodeJudgement{CodeKind::unknown, "source not readable: " + reply.error().message};
  if (reply->script_source.size() > visit_.limits().max_script_source_bytes)
    co_return blacklist::CodeJudgement{CodeKind::unknown, "script over the source size cap"};
  co_return blacklist::judge_js_code(blacklist::measure_js_function(reply->script_source, line, column));
}

}  // namespace crawler
