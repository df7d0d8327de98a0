// crawler/target_tracker.hpp — the site's targets during one visit: which are the site's, which are
// instrumented, and what each is doing.
//
// It is the visit's TargetListener (cdp::TargetManager asks it whether to instrument each target
// that attaches) and reads the page-level events of the site's targets. It keeps:
//   * the target records of the evidence (type, URL, instrumented or over the cap);
//   * our page: its session once wired, its load, its crash;
//   * popups (pages other than ours, opened after navigation), for the second look;
//   * targets still starting: a popup or frame that attached after navigation and has not loaded,
//     and the time the page last gained a target, which hold a benign verdict back (settling);
// and it keeps the site's targets running: dialogs are dismissed (beforeunload is let through, so
// nothing can trap the visit) and debugger pauses resumed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cdp/connection.hpp"
#include "cdp/events.hpp"
#include "cdp/target_manager.hpp"
#include "crawler/visit_context.hpp"

namespace crawler {

// How long a popup or frame that has not fired its load event yet holds a benign verdict back: a
// pop-under whose load waits on a slow ad server starts its miner only then (corpus/slow-popup-opener).
inline constexpr std::chrono::milliseconds kMaxWaitForTargetLoad{10'000};

class TargetTracker : public cdp::TargetListener {
 public:
  TargetTracker(VisitContext& visit, cdp::Connection& connection);

  // Page.loadEventFired, Page.frameNavigated, Page.javascriptDialogOpening, Debugger.paused and the
  // crash events.
  void register_events(cdp::EventRegistry& events);

  // From now on, targets of this context are the site's (its own page included).
  void watch_context(std::string context_id);
  // Our page's target, as Target.createTarget named it (its wiring may already be over).
  void expect_page(std::string target_id);
  // Navigation starts: from here a new page target is a popup, and new targets restart settling.
  void navigation_started() { navigating_ = true; }

  // Our page, once wired (empty before).
  const std::string& page_session_id() const { return page_session_id_; }
  const std::string& page_target_id() const { return page_target_id_; }
  bool loaded() const { return loaded_; }
  bool crashed() const { return crashed_; }
  // A target that appeared (or loaded, or was reloaded) within `settle`, or a popup or frame still
  // loading (for at most kMaxWaitForTargetLoad): what it starts has not had time to start.
  bool target_starting(Clock::time_point now, std::chrono::milliseconds settle) const;
  // The site's popups, in attach order (instrumented pages other than ours).
  const std::vector<std::string>& popup_sessions() const { return popup_sessions_; }
  // The instrumented targets that run JavaScript (pages, frames, workers) and are still attached,
  // in attach order: what a profile of the site covers.
  const std::vector<cdp::TargetInfo>& script_targets() const { return script_targets_; }
  // A popup is being reloaded (the second look): it counts as loading again.
  void reloading(const std::string& session_id, Clock::time_point now);

  // cdp::TargetListener
  bool on_attached(const cdp::TargetInfo& target) override;
  void on_wired(const cdp::TargetInfo& target, bool instrumented) override;
  void on_detached(const cdp::TargetInfo& target) override;

 private:
  void on_load(const cdp::TargetInfo& target);
  void on_frame_navigated(const cdp::TargetInfo& target, const cdp::Json& params);
  void on_crash(bool ours);
  void on_dialog(const cdp::TargetInfo& target, const cdp::Json& params);
  void on_paused(const cdp::TargetInfo& target);

  VisitContext& visit_;
  cdp::Connection& connection_;
  std::string context_id_;  // empty until watch_context: nothing is the site's yet
  bool navigating_ = false;
  std::string page_target_id_;
  std::string page_session_id_;
  bool loaded_ = false;
  bool crashed_ = false;
  std::size_t instrumented_ = 0;
  std::map<std::string, std::size_t> records_;      // session id → evidence().targets index
  std::map<std::string, std::string> wired_pages_;  // target id → session id, instrumented pages
  std::vector<std::string> popup_sessions_;
  std::vector<cdp::TargetInfo> script_targets_;  // bounded: instrumented targets only
  // Popups and frames attached after navigation that have not loaded yet: session id → since when.
  std::map<std::string, Clock::time_point> loading_;
  Clock::time_point last_change_{};  // the page last gained (or reloaded, or loaded) a target
};

}  // namespace crawler
