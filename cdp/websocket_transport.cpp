// cdp/websocket_transport.cpp — the DevTools WebSocket over Boost.Beast (see transport.hpp).
//
// Beast 1.81 reads and writes accept only terminal cancellation, which may close the socket, so a
// read or a write is never raced against a timer here: deadlines belong to the waits the Connection
// owns (the wait for a reply). The handshakes have the stream's own timeout.
#include "cdp/transport.hpp"

#include <cstdint>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>

#include "util/text.hpp"

namespace cdp {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using util::ErrorCode;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// The WebSocket close handshake (and the opening one) may take this long before the socket is dropped.
constexpr std::chrono::seconds kHandshakeTimeout{5};
// A read buffer grown past this by one huge message is released afterwards rather than kept.
constexpr std::size_t kKeptReadBufferBytes = 1u << 20;

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

class WebSocketTransport final : public Transport {
 public:
  using Socket = websocket::stream<beast::tcp_stream>;

  WebSocketTransport(Socket socket, std::size_t max_message_bytes)
      : socket_(std::move(socket)), max_message_bytes_(max_message_bytes) {
    socket_.read_message_max(max_message_bytes_);
    socket_.set_option(websocket::stream_base::timeout{kHandshakeTimeout, websocket::stream_base::none(), false});
    socket_.text(true);
  }

  asio::awaitable<util::Result<std::string_view>> read() override {
    buffer_.consume(buffer_.size());
    if (buffer_.capacity() > kKeptReadBufferBytes) buffer_ = beast::flat_buffer();
    auto [ec, bytes] = co_await socket_.async_read(buffer_, kNoThrow);
    if (ec) co_return util::make_error(ErrorCode::connection_closed, "read", describe_read_error(ec));
    const auto data = buffer_.cdata();
    co_return std::string_view(static_cast<const char*>(data.data()), data.size());
  }

  asio::awaitable<util::Status> write(const std::string& message) override {
    auto [ec, bytes] = co_await socket_.async_write(asio::buffer(message), kNoThrow);
    if (ec) co_return util::make_error(ErrorCode::connection_closed, "write", ec.message());
    co_return util::Status{};
  }

  asio::awaitable<void> close() override {
    // Bounded by the stream's handshake timeout; on failure the socket is simply dropped.
    auto [ec] = co_await socket_.async_close(websocket::close_code::normal, kNoThrow);
    if (ec) abort();
  }

  void abort() noexcept override {
    boost::system::error_code ignored;
    beast::get_lowest_layer(socket_).socket().close(ignored);
  }

 private:
  std::string describe_read_error(const boost::system::error_code& ec) const {
    if (ec == websocket::error::message_too_big)
      return max_message_bytes_ >= (1u << 20)
                 ? fmt::format("CDP message over the {} MB limit; connection dropped", max_message_bytes_ >> 20)
                 : fmt::format("CDP message over the {} byte limit; connection dropped", max_message_bytes_);
    if (ec == websocket::error::closed) return "closed by the peer";
    return "socket error: " + ec.message();
  }

  Socket socket_;
  std::size_t max_message_bytes_;
  beast::flat_buffer buffer_;
};

}  // namespace

std::optional<WsAddress> parse_ws_url(std::string_view url) {
  constexpr std::string_view kScheme = "ws://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view authority = url.substr(0, slash);
  WsAddress out;
  out.target = std::string(url.substr(slash));
  std::string_view host;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close + 1 >= authority.size() || authority[close + 1] != ':')
      return std::nullopt;
    host = authority.substr(1, close - 1);
    port = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  const auto number = port.size() <= 5 ? util::parse_decimal(port, 65535) : std::nullopt;
  if (!number || *number == 0) return std::nullopt;
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(*number);
  return out;
}

asio::awaitable<util::Result<std::unique_ptr<Transport>>> connect_websocket(std::string ws_url,
                                                                            std::size_t max_message_bytes) {
  const std::string context = "connect";
  const auto address = parse_ws_url(ws_url);
  if (!address) co_return util::make_error(ErrorCode::bad_message, context, "not a ws://HOST:PORT/PATH URL: " + ws_url);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address->host == "localhost" ? "127.0.0.1" : address->host, ec);
  if (!is_loopback_host(address->host) || ec || !ip.is_loopback())
    co_return util::make_error(ErrorCode::connection_closed, context,
                               "refusing a non-loopback DevTools address: " + ws_url);

  auto executor = co_await asio::this_coro::executor;
  WebSocketTransport::Socket socket(executor);
  // Step 1: TCP connect, under a deadline.
  beast::get_lowest_layer(socket).expires_after(kHandshakeTimeout);
  auto [connect_ec] =
      co_await beast::get_lowest_layer(socket).async_connect(tcp::endpoint(ip, address->port), kNoThrow);
  if (connect_ec)
    co_return util::make_error(ErrorCode::connection_closed, context,
                               "connect " + ws_url + ": " + connect_ec.message());
  // Step 2: the WebSocket handshake; the stream's own timeout option takes over after it. No Nagle:
  // pipelined calls (a CPU sample while Page.navigate is pending) must not wait 40 ms for an ACK.
  beast::get_lowest_layer(socket).expires_never();
  boost::system::error_code nodelay_ec;
  beast::get_lowest_layer(socket).socket().set_option(tcp::no_delay(true), nodelay_ec);
  socket.set_option(websocket::stream_base::timeout{kHandshakeTimeout, websocket::stream_base::none(), false});
  const std::string host_header = ip.is_v6() ? fmt::format("[{}]:{}", ip.to_string(), address->port)
                                             : fmt::format("{}:{}", ip.to_string(), address->port);
  auto [handshake_ec] = co_await socket.async_handshake(host_header, address->target, kNoThrow);
  if (handshake_ec)
    co_return util::make_error(ErrorCode::connection_closed, context,
                               "WebSocket handshake with " + ws_url + ": " + handshake_ec.message());
  co_return std::unique_ptr<Transport>(std::make_unique<WebSocketTransport>(std::move(socket), max_message_bytes));
}

}  // namespace cdp
