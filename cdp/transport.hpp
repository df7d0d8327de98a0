// cdp/transport.hpp — how DevTools messages travel: the seam under cdp::Connection.
//
// A Transport carries whole text messages in both directions. The Connection runs one reader loop
// (read() in turn) and one writer loop (one write() in flight at a time), so an implementation need
// not be safe for concurrent reads or concurrent writes. In production it is Chrome's DevTools
// WebSocket (WebSocketTransport); unit tests script Chrome's side in process
// (tests/support/scripted_transport.hpp), the way Puppeteer tests its Connection over a fake
// ConnectionTransport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "util/status.hpp"

namespace cdp {

class Transport {
 public:
  virtual ~Transport() = default;

  // The next whole message; the view stays valid until the next read(). An error ends the stream
  // for good: its message says why, for the user ("closed by the peer", "CDP message over the
  // 64 MB limit; connection dropped").
  virtual boost::asio::awaitable<util::Result<std::string_view>> read() = 0;
  // Sends one whole text message. An error ends the stream.
  virtual boost::asio::awaitable<util::Status> write(const std::string& message) = 0;
  // The orderly close (a handshake, bounded); read() then fails.
  virtual boost::asio::awaitable<void> close() = 0;
  // Drops the stream at once, so neither loop can block on it. Never throws; idempotent.
  virtual void abort() noexcept = 0;
};

// ws://HOST:PORT/PATH as Chrome prints its DevTools URL (HOST may be a bracketed IPv6 address);
// nullopt for anything else.
struct WsAddress {
  std::string host;
  std::uint16_t port = 0;
  std::string target;  // path
};
std::optional<WsAddress> parse_ws_url(std::string_view url);

// Chrome's DevTools WebSocket at ws://HOST:PORT/PATH, connected and handshaken. Only loopback hosts
// are accepted: DevTools must never be reached over a network. Messages over `max_message_bytes`
// end the stream with a clear error rather than buffering without bound.
boost::asio::awaitable<util::Result<std::unique_ptr<Transport>>> connect_websocket(std::string ws_url,
                                                                                   std::size_t max_message_bytes);

}  // namespace cdp
