// cdp/session.hpp — a handle on one attached target: what the rest of cjcrawl holds to talk to it.
//
// A Session sends typed commands to its target (`session.send(cdp::PageReload{})`) through the
// Connection, and fails fast once the target is gone: a call made after the detach returns
// `target_gone` without being sent, and calls in flight at the detach fail at once (Connection).
// Cheap to copy; it does not own the Connection, which must outlive it (the Browser that owns the
// Connection is kept alive by whoever holds its sessions: a Visit holds its Browser).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "cdp/connection.hpp"

namespace cdp {

class Session {
 public:
  Session() = default;  // no target: every call fails with target_gone
  Session(Connection& connection, std::string session_id) : connection_(&connection), id_(std::move(session_id)) {}

  // The browser itself (no sessionId): browser-wide commands (SystemInfo, Target, Browser).
  static Session browser(Connection& connection) { return Session(connection, std::string()); }

  const std::string& id() const { return id_; }
  // The target is still attached (and the connection open).
  bool attached() const { return connection_ && connection_->is_open() && connection_->target(id_) != nullptr; }
  // The target's latest information, or null once it is gone.
  const TargetInfo* info() const { return connection_ ? connection_->target(id_) : nullptr; }

  template <class C>
  boost::asio::awaitable<util::Result<typename C::Result>> send(
      const C& command, std::chrono::milliseconds timeout = kDefaultCallTimeout) const {
    if (!connection_) co_return util::make_error(util::ErrorCode::target_gone, std::string(C::kMethod), "no target");
    auto reply = co_await connection_->send(command, id_, timeout);
    co_return reply;
  }

 private:
  Connection* connection_ = nullptr;
  std::string id_;
};

// A call failed because its target went away, not because the browser or the call did: the detach
// came before the reply, or Chrome answered for a vanished session (Chrome 156: code -32001,
// "Session with given id not found.", checked by hand).
inline bool target_gone(const util::Error& error) {
  constexpr long kSessionNotFound = -32001;
  return error.code == util::ErrorCode::target_gone ||
         (error.code == util::ErrorCode::protocol && error.native_code == kSessionNotFound);
}

}  // namespace cdp
