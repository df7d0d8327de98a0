// crawler/target_tracker.cpp — see target_tracker.hpp.
#include "crawler/target_tracker.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "cdp/commands.hpp"
#include "cdp/session.hpp"

namespace crawler {
namespace {
constexpr std::chrono::milliseconds kAnswerTimeout{10'000};  // a dialog's answer, a resume

asio::awaitable<void> answer_dialog(cdp::Session session, bool accept) {
  const cdp::PageHandleJavaScriptDialog answer{accept};
  auto answered = co_await session.send(answer, kAnswerTimeout);
  if (!answered) spdlog::debug("dialog not answered: {}", answered.error().describe());
}

asio::awaitable<void> resume_debugger(cdp::Session session) {
  const cdp::DebuggerResume resume;
  auto resumed = co_await session.send(resume, kAnswerTimeout);
  (void)resumed;
}
}  // namespace

TargetTracker::TargetTracker(VisitContext& visit, cdp::Connection& connection)
    : visit_(visit), connection_(connection) {}

void TargetTracker::register_events(cdp::EventRegistry& events) {
  events.on("Page.loadEventFired", [this](const cdp::TargetInfo& target, const cdp::Json&) { on_load(target); });
  events.on("Page.frameNavigated",
            [this](const cdp::TargetInfo& target, const cdp::Json& params) { on_frame_navigated(target, params); });
  events.on("Page.javascriptDialogOpening",
            [this](const cdp::TargetInfo& target, const cdp::Json& params) { on_dialog(target, params); });
  events.on("Debugger.paused", [this](const cdp::TargetInfo& target, const cdp::Json&) { on_paused(target); });
  // A crash arrives on the crashed target's own session (Inspector), or on the browser's.
  events.on("Inspector.targetCrashed", [this](const cdp::TargetInfo& target, const cdp::Json&) {
    on_crash(target.session_id == page_session_id_);
  });
  events.on("Target.targetCrashed", [this](const cdp::TargetInfo&, const cdp::Json& params) {
    on_crash(params.value("targetId", std::string()) == page_target_id_);
  });
}

void TargetTracker::watch_context(std::string context_id) { context_id_ = std::move(context_id); }

bool TargetTracker::target_starting(Clock::time_point now, std::chrono::milliseconds settle) const {
  if (now - last_change_ < settle) return true;
  return std::any_of(loading_.begin(), loading_.end(),
                     [&](const auto& entry) { return now - entry.second < kMaxWaitForTargetLoad; });
}

void TargetTracker::reloading(const std::string& session_id, Clock::time_point now) {
  loading_[session_id] = now;
  last_change_ = now;
}

bool TargetTracker::on_attached(const cdp::TargetInfo& target) {
  // Only the site's targets: those of our context. Chrome's own (the first about:blank; its WebUI
  // is filtered out of auto-attach, TargetManager::start) and stragglers of an earlier site's context
  // are resumed, not watched.
  const bool in_context = target.browser_context_id.empty() || target.browser_context_id == context_id_;
  const bool ours = !context_id_.empty() && in_context && target.type != "browser_ui" && target.type != "other" &&
                    target.type != "tab";
  if (!ours) return false;
  const auto& limits = visit_.limits();
  const bool instrument = instrumented_ < limits.max_targets;
  const bool page_or_frame = target.type == "page" || target.type == "iframe";
  // Popups (pages other than ours) whenever they come; anything else once the page has loaded.
  if (loaded_ || (navigating_ && target.type == "page")) last_change_ = Clock::now();
  // (Bounded: only instrumented targets, at most limits.max_targets of them, are entered.)
  if (instrument && navigating_ && page_or_frame) loading_.emplace(target.session_id, Clock::now());
  if (instrument && navigating_ && target.type == "page") popup_sessions_.push_back(target.session_id);
  if (instrument) ++instrumented_;
  else visit_.count("targets_over_cap");
  auto& records = visit_.evidence().targets;
  if (records.size() < limits.max_target_records) {
    records_.emplace(target.session_id, records.size());
    records.push_back({target.type, target.url, instrument});
  } else {
    visit_.count("targets_not_stored");
  }
  return instrument;
}

void TargetTracker::expect_page(std::string target_id) {
  page_target_id_ = std::move(target_id);
  if (const auto wired = wired_pages_.find(page_target_id_); wired != wired_pages_.end()) {
    page_session_id_ = wired->second;
    visit_.notify();
  }
}

void TargetTracker::on_wired(const cdp::TargetInfo& target, bool instrumented) {
  if (instrumented && (target.type == "page" || target.type == "iframe" || cdp::is_worker_type(target.type)))
    script_targets_.push_back(target);
  if (!instrumented || target.type != "page") return;
  wired_pages_.emplace(target.target_id, target.session_id);  // bounded: instrumented targets only
  if (!page_target_id_.empty() && target.target_id == page_target_id_ && page_session_id_.empty()) {
    page_session_id_ = target.session_id;
    visit_.notify();  // our page is navigated only once its domains have answered
  }
}

void TargetTracker::on_detached(const cdp::TargetInfo& target) {
  loading_.erase(target.session_id);
  std::erase_if(script_targets_, [&](const cdp::TargetInfo& t) { return t.session_id == target.session_id; });
}

void TargetTracker::on_load(const cdp::TargetInfo& target) {
  if (!page_session_id_.empty() && target.session_id == page_session_id_) {
    loaded_ = true;
    visit_.notify();
  } else if (loading_.erase(target.session_id) > 0) {
    spdlog::debug("{} target loaded", target.type);
    last_change_ = Clock::now();  // a popup or frame is ready: what it starts starts now
  }
}

void TargetTracker::on_frame_navigated(const cdp::TargetInfo& target, const cdp::Json& params) {
  const cdp::Json& frame = params.value("frame", cdp::Json::object());
  if (frame.contains("parentId")) return;
  if (!page_session_id_.empty() && target.session_id == page_session_id_)
    visit_.evidence().final_url = frame.value("url", visit_.evidence().final_url);
  // A page or frame target attaches before it has a URL (about:blank, or empty for a popup); the
  // Connection has just set the target's from this event.
  if (auto record = records_.find(target.session_id); record != records_.end())
    visit_.evidence().targets[record->second].url = target.url;
}

void TargetTracker::on_crash(bool ours) {
  if (ours) {
    crashed_ = true;
    visit_.notify();
  } else {
    visit_.count("subtarget_crashes");
  }
}

void TargetTracker::on_dialog(const cdp::TargetInfo& target, const cdp::Json& params) {
  // Dismiss alert/confirm/prompt; let beforeunload through so nothing can trap the visit.
  visit_.count("dialogs_dismissed");
  visit_.spawn(answer_dialog(cdp::Session(connection_, target.session_id),
                             params.value("type", std::string()) == "beforeunload"));
}

void TargetTracker::on_paused(const cdp::TargetInfo& target) {
  // setSkipAllPauses should prevent this; never leave a target frozen if it happens anyway.
  visit_.count("debugger_pauses_resumed");
  visit_.spawn(resume_debugger(cdp::Session(connection_, target.session_id)));
}

}  // namespace crawler
