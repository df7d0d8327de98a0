// cdp/browser.hpp — one Chrome, its DevTools connection and its targets, kept across visits.
//
// A `Browser` is a launched Chrome (or, in tests, a scripted one), its Connection with the reader
// running, and its TargetManager with browser-level auto-attach on. Visits take the event stream in
// turn, one at a time (take_events): the visit's EventRegistry says which events are parsed and where
// they go, its TargetListener hears target life. Between visits nothing but Target.* is parsed, and
// targets that attach are only resumed.
//
// Closing is Browser.close, the connection's close, Chrome reaped and its profile removed; a Browser
// destroyed without close() kills Chrome (an interrupted crawl).
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cdp/chrome_process.hpp"
#include "cdp/connection.hpp"
#include "cdp/egress_proxy.hpp"
#include "cdp/events.hpp"
#include "cdp/session.hpp"
#include "cdp/target_manager.hpp"

namespace cdp {

class Browser : public std::enable_shared_from_this<Browser> {
 public:
  // Launches Chrome (under options.startup_timeout), connects, and starts auto-attach. A failure is
  // `browser_start` (Chrome missing, failing to start, no DevTools) with a message for the user.
  static asio::awaitable<util::Result<std::shared_ptr<Browser>>> launch(const LaunchOptions& options);
  // A browser over a connection already made, with no process to own (a scripted Chrome in tests).
  static asio::awaitable<util::Result<std::shared_ptr<Browser>>> over(std::unique_ptr<Connection> connection);

  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  Connection& connection() { return *connection_; }
  Session browser_session() { return Session::browser(*connection_); }
  TargetManager& targets() { return *targets_; }
  // The connection is up and Chrome has not exited.
  bool alive() const;
  // The egress proxy every page's connection goes through; null for a browser with no process.
  EgressProxy* egress() { return egress_.get(); }
  // Chrome's process (and process group) id; 0 for a browser with no process.
  pid_t pid() const { return chrome_ ? chrome_->pid() : 0; }

  // The current visit's events (see the header comment) and its wake-up when the connection ends.
  // `events` and `listener` must outlive the visit's hold; release_events() ends it.
  void take_events(const EventRegistry* events, TargetListener* listener, std::function<void()> on_closed);
  void release_events();

  // Browser.close, the orderly close of the connection, Chrome reaped, its profile removed. Idempotent.
  asio::awaitable<void> close();

 private:
  Browser() = default;
  static asio::awaitable<util::Result<std::shared_ptr<Browser>>> start(std::shared_ptr<Browser> browser);
  void on_event(const TargetInfo& target, std::string_view method, const Json& params);

  asio::any_io_executor executor_;
  std::unique_ptr<EgressProxy> egress_;  // outlives Chrome (declared first, destroyed last)
  std::unique_ptr<ChromeProcess> chrome_;
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<TargetManager> targets_;
  bool run_done_ = false;  // the connection's reader has ended
  std::function<void()> on_closed_;
  const EventRegistry* events_ = nullptr;
  bool closed_ = false;
};

}  // namespace cdp
