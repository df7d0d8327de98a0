// cdp/connection.hpp — one DevTools connection, its calls, and its sessions (flatten mode).
//
// A `Connection` owns a Transport (the DevTools WebSocket, or a scripted fake in tests), one reader
// loop and one writer loop. Calls are matched to replies by id; every call has a deadline; when the
// transport closes every pending call fails at once with `connection_closed`, and the calls of a
// session fail with `target_gone` when its target detaches (a call to a session already gone fails
// at once, without being sent). An attached target's TargetInfo is created when
// `Target.attachedToTarget` arrives and before any event of that session is dispatched (Puppeteer's
// Connection does the same). Only TargetManager acts on Target.* events; the Connection only keeps
// its table of sessions.
//
// Threading: everything runs on one single-threaded io_context, no strands. Events are dispatched
// synchronously from the reader loop to one handler, which must not block; work that needs calls is
// spawned by the handler's owner. There is therefore no event queue to overflow: backpressure is the
// transport itself. The collections the handler fills are bounded by the handler (crawler::Visit).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "cdp/message_text.hpp"
#include "cdp/transport.hpp"
#include "util/status.hpp"

namespace cdp {

namespace asio = boost::asio;
using Json = nlohmann::json;

// CDP messages over this are refused: the connection fails with a clear error rather than buffering
// without bound. Chrome sends whole script sources and Wasm modules (base64) in one message.
inline constexpr std::size_t kMaxMessageBytes = 64u * 1024 * 1024;
inline constexpr std::chrono::milliseconds kDefaultCallTimeout{30'000};

// One attached target, in flatten mode. The browser itself is the target with an empty session id.
struct TargetInfo {
  std::string session_id;  // CDP sessionId; empty for the browser
  std::string target_id;
  std::string type;                // page, iframe, worker, shared_worker, service_worker, browser, ...
  std::string url;                 // a page's or frame's: its main frame's latest URL
  std::string parent_session_id;   // the session that auto-attached it ("" for the browser's auto-attach)
  std::string browser_context_id;  // "" when Chrome did not say
  bool waiting_for_debugger = false;
};

// Dedicated, shared and service workers: JavaScript targets with no document.
inline bool is_worker_type(std::string_view type) {
  return type == "worker" || type == "shared_worker" || type == "service_worker";
}

struct ConnectionCounters {
  std::uint64_t messages_received = 0;
  std::uint64_t events_dispatched = 0;
  std::uint64_t unknown_session_events = 0;    // events for a session we never saw attach (or already detached)
  std::uint64_t late_replies = 0;              // replies whose call had already timed out
  std::uint64_t bad_messages = 0;              // unparseable JSON, or neither reply nor event
  std::uint64_t handler_errors = 0;            // exceptions thrown by the event handler (bugs), logged
  std::uint64_t events_skipped = 0;            // events dropped unparsed by the skip filter
  std::uint64_t lone_surrogates_replaced = 0;  // messages parsed after their lone surrogates became U+FFFD
};

// Called for each event, with the target it arrived on.
using EventHandler = std::function<void(const TargetInfo& target, std::string_view method, const Json& params)>;

class Connection {
 public:
  // Connects to Chrome's DevTools WebSocket (loopback only: see connect_websocket).
  static asio::awaitable<util::Result<std::unique_ptr<Connection>>> connect(
      std::string ws_url, std::size_t max_message_bytes = kMaxMessageBytes);

  Connection(std::unique_ptr<Transport> transport, asio::any_io_executor executor);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Reads and writes until the transport closes, then fails every pending call. Run it exactly once,
  // concurrently with the calls (co_spawn it); it completes after close() or when Chrome goes away.
  // The Connection must outlive run(): destroy it only after run() has completed.
  asio::awaitable<void> run();

  // A raw call. `session_id` empty means the browser. The reply's "result", or an Error.
  asio::awaitable<util::Result<Json>> call(std::string_view method, Json params = Json::object(),
                                           std::string_view session_id = {},
                                           std::chrono::milliseconds timeout = kDefaultCallTimeout);

  // A typed call: C has kMethod, params() and a static parse(const Json&) -> C::Result.
  template <class C>
  asio::awaitable<util::Result<typename C::Result>> send(const C& command, std::string_view session_id = {},
                                                         std::chrono::milliseconds timeout = kDefaultCallTimeout) {
    Json params = command.params();
    auto reply = co_await call(C::kMethod, std::move(params), session_id, timeout);
    if (!reply) co_return reply.error();
    try {
      co_return C::parse(reply.value());
    } catch (const std::exception& e) {
      co_return util::make_error(util::ErrorCode::bad_message, std::string(C::kMethod), e.what());
    }
  }

  void on_event(EventHandler handler) { handler_ = std::move(handler); }
  // Events for which `skip(method, raw_text)` is true are dropped before they are parsed (counted
  // in events_skipped). Target.* events are never skipped: the sessions depend on them.
  void skip_events(std::function<bool(std::string_view method, std::string_view raw_text)> skip) {
    skip_event_ = std::move(skip);
  }
  // Members under these keys are left out of every parsed message, at any depth (parse_pruned).
  void prune_keys(PrunedKeys keys) { pruned_keys_ = std::move(keys); }

  // Starts the orderly close; run() then completes. Safe to call more than once.
  asio::awaitable<void> close();

  bool is_open() const noexcept { return open_; }
  // Why the connection ended, once it has (e.g. "CDP message over the 64 MB limit").
  const std::string& close_reason() const noexcept { return close_reason_; }
  const ConnectionCounters& counters() const noexcept { return counters_; }
  // The target behind an attached session ("" for the browser), or null when none is attached.
  const TargetInfo* target(std::string_view session_id) const;
  std::size_t session_count() const noexcept { return targets_.size(); }
  const asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  struct Pending;

  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  void handle_message(std::string_view text);
  // Settles the pending call `id` with its reply (or error); a reply nobody waits for is counted.
  void deliver_reply(std::int64_t id, Json& message);
  void dispatch_event(const std::string& session_id, const std::string& method, const Json& params);
  void fail_all_pending(const std::string& reason);

  std::unique_ptr<Transport> transport_;
  asio::any_io_executor executor_;
  bool open_ = true;
  bool closing_ = false;
  std::string close_reason_;
  std::int64_t next_id_ = 1;
  std::unordered_map<std::int64_t, Pending*> pending_;
  std::deque<std::string> outbox_;
  asio::steady_timer outbox_signal_;                        // cancelled to wake the writer
  std::map<std::string, TargetInfo, std::less<>> targets_;  // by session id
  EventHandler handler_;
  std::function<bool(std::string_view, std::string_view)> skip_event_;
  PrunedKeys pruned_keys_;
  ConnectionCounters counters_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // lets suspended calls know we still exist
};

}  // namespace cdp
