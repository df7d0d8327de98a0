// cdp/target_manager.hpp — target life: attach, wiring, resume, detach. The only code that acts on
// Target.* (Puppeteer's TargetManager and chromiumoxide's target handler are the models).
//
// Chrome attaches every target the browser creates to the browser session (flatten auto-attach, set
// up by start(): popups, shared and service workers), and every wired target auto-attaches its own
// children (dedicated workers, cross-site iframes). Each arrives paused, waiting for the debugger.
// The TargetManager asks its listener whether to instrument it, then wires it in a fixed order:
//   Network.enable, Debugger.enable, Debugger.setSkipAllPauses, Page.enable (pages and frames),
//   Target.setAutoAttach (its children), then Runtime.runIfWaitingForDebugger
// sent back to back, each reply awaited by its own task: a session handles its messages in order, so
// every domain is enabled before the target runs, and a target whose replies wait for it to run is
// not held up by them (observed: a service worker answers Network.enable only once it is resumed;
// awaiting each reply in turn left it, and the page's register() call, waiting for ever). A target
// that is not instrumented is only resumed: a target left waiting for the debugger never runs.
// Target life reaches the listener as events: attached (decide), wired, detached.
//
// One target, one session: Chrome may attach the same target twice, once to the browser session and
// once to a page's (observed: a service worker registered by the page arrives both ways). The first
// session is the one reported and instrumented; a second is only resumed and kept as a spare, so the
// target's traffic is never seen twice. Should the first detach while the target lives on (a page's
// session ends with the page), the spare takes its place: reported as attached, and instrumented.
//
// The browser's contexts and pages are made here too (Target.createBrowserContext, createTarget,
// disposeBrowserContext), so nothing else touches the Target domain.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>

#include "cdp/connection.hpp"
#include "cdp/session.hpp"

namespace cdp {

// How long one wiring command may wait for its reply (a domain enable and the like).
inline constexpr std::chrono::milliseconds kWiringTimeout{10'000};

class TargetListener {
 public:
  virtual ~TargetListener() = default;
  // A target attached (its TargetInfo is already known to the Connection). true: instrument it;
  // false: only resume it.
  virtual bool on_attached(const TargetInfo& target) = 0;
  // Its wiring is over: every command answered (or failed, or timed out) and the target resumed.
  virtual void on_wired(const TargetInfo& /*target*/, bool /*instrumented*/) {}
  // It detached (closed, crashed, ended, or its context was disposed of). Calls to it now fail fast.
  virtual void on_detached(const TargetInfo& /*target*/) {}
};

class TargetManager {
 public:
  // `owner` is kept alive while a wiring task runs (the Browser that owns `connection`).
  TargetManager(Connection& connection, std::weak_ptr<void> owner);
  TargetManager(const TargetManager&) = delete;
  TargetManager& operator=(const TargetManager&) = delete;

  // Browser-level auto-attach (flatten, paused until resumed), with Chrome's own WebUI left out.
  boost::asio::awaitable<util::Status> start();

  // Hands target life to `listener` (one at a time; null: every target is only resumed). A wiring
  // that started for an earlier listener is never reported to a later one.
  void set_listener(TargetListener* listener);

  // Target.* events, as the Connection dispatches them (the Browser forwards every one).
  void handle(const TargetInfo& origin, std::string_view method, const Json& params);

  // A fresh browser context (its own cookies, storage, cache and service workers).
  boost::asio::awaitable<util::Result<std::string>> create_context();
  // An about:blank page in `context_id`; its target id. It attaches (and is wired) like any target.
  boost::asio::awaitable<util::Result<std::string>> open_page(std::string context_id);
  // Closes every target of the context and drops its data, under `timeout`.
  boost::asio::awaitable<util::Status> dispose_context(std::string context_id, std::chrono::milliseconds timeout);

  std::size_t wirings_in_flight() const { return wirings_in_flight_; }
  // Second sessions of an already attached target, resumed only (see above).
  std::uint64_t duplicate_attachments() const { return duplicate_attachments_; }

 private:
  struct Wiring;
  boost::asio::awaitable<void> wire(TargetInfo target, bool instrument, std::uint64_t generation);
  void attach(const TargetInfo& target);
  void detach(const TargetInfo& target);
  template <class Command>
  void send_step(const std::shared_ptr<Wiring>& wiring, Command command);

  Connection& connection_;
  std::weak_ptr<void> owner_;
  TargetListener* listener_ = nullptr;
  std::uint64_t generation_ = 0;  // bumped by every set_listener
  std::size_t wirings_in_flight_ = 0;
  // For the current listener: target id → its reported session, and → a spare session. Bounded by
  // the targets a visit attaches (cleared with every listener).
  std::unordered_map<std::string, std::string> reported_sessions_;
  std::unordered_map<std::string, std::string> spare_sessions_;
  std::uint64_t duplicate_attachments_ = 0;
};

}  // namespace cdp
