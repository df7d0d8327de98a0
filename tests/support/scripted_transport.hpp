// tests/support/scripted_transport.hpp — a cdp::Transport whose far end is the test, in process.
//
// What the Connection writes is parsed and handed to the test's command handler; what the test
// pushes, the Connection reads next, in order. Everything runs on the test's own single-threaded
// io_context, so a test scripts Chrome's side of the protocol without threads or sockets (the way
// Puppeteer tests its Connection over a fake ConnectionTransport). The test keeps the Peer; the
// Connection owns the Transport; both share the state. The peer holds no I/O object, so it may
// outlive the io_context (a test looks at what was sent after the browser is gone).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "cdp/transport.hpp"

namespace testsupport {

class ScriptedPeer {
 public:
  using Json = nlohmann::json;
  using OnCommand = std::function<void(const Json& command)>;

  ScriptedPeer() = default;

  // Called with every command the Connection sends (already parsed), as it is written.
  void on_command(OnCommand handler) { on_command_ = std::move(handler); }
  // A message for the Connection to read (an event, or a reply).
  void push(std::string message);
  void push(const Json& message) { push(message.dump()); }
  // Chrome's reply to `command` (its id, and its sessionId back, as Chrome does).
  void reply(const Json& command, Json result = Json::object());
  void reply_error(const Json& command, int code, std::string message);
  // An event, on a session ("" for the browser).
  void event(std::string_view method, Json params, std::string_view session_id = {});
  // The stream ends: read() fails with `reason` once the inbox is drained.
  void end(std::string reason = "closed by the peer");

  // Every command written, in order.
  const std::vector<Json>& sent() const { return sent_; }
  bool ended() const { return ended_; }

 private:
  friend class ScriptedTransport;
  void wake() {
    if (waiting_) waiting_->cancel();
  }
  std::deque<std::string> inbox_;
  // The transport's wait while its inbox is empty, cancelled when a message (or the end) arrives.
  // The timer belongs to the transport (and so to the io_context's life); a peer may outlive both.
  boost::asio::steady_timer* waiting_ = nullptr;
  bool ended_ = false;
  std::string end_reason_;
  OnCommand on_command_;
  std::vector<Json> sent_;
};

// The Transport half, for cdp::Connection; the Peer half for the test.
std::unique_ptr<cdp::Transport> make_scripted_transport(std::shared_ptr<ScriptedPeer> peer,
                                                        boost::asio::any_io_executor executor);

}  // namespace testsupport
