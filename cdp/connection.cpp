// cdp/connection.cpp — the DevTools WebSocket: reader loop, writer queue, pending calls, sessions.
#include "cdp/connection.hpp"
#include "cdp/message_text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace cdp {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// The WebSocket close handshake (and the opening one) may take this long before the socket is dropped.
constexpr std::chrono::seconds kHandshakeTimeout{5};
// A read buffer grown past this by one huge message is released afterwards rather than kept.
constexpr std::size_t kKeptReadBufferBytes = 1u << 20;
// -vv logs every CDP message, cut to this many bytes (a script source can be megabytes).
constexpr std::size_t kTraceBytes = 1000;

struct WsAddress {
  std::string host;
  std::uint16_t port = 0;
  std::string target;  // path
};

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// Parses ws://HOST:PORT/PATH as Chrome prints it. Anything else is refused.
std::optional<WsAddress> parse_ws_url(std::string_view url) {
  constexpr std::string_view kScheme = "ws://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view authority = url.substr(0, slash);
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
  unsigned value = 0;
  if (port.empty() || port.size() > 5) return std::nullopt;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

std::string describe_read_error(const boost::system::error_code& ec, std::size_t max_message_bytes) {
  if (ec == websocket::error::message_too_big)
    return max_message_bytes >= (1u << 20)
               ? fmt::format("CDP message over the {} MB limit; connection dropped", max_message_bytes >> 20)
               : fmt::format("CDP message over the {} byte limit; connection dropped", max_message_bytes);
  if (ec == websocket::error::closed) return "closed by the peer";
  return "socket error: " + ec.message();
}

}  // namespace

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::protocol: return "protocol error";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::connection_closed: return "connection closed";
    case ErrorKind::target_detached: return "target detached";
    case ErrorKind::bad_message: return "bad message";
  }
  return "error";
}

std::string Error::describe() const {
  if (kind == ErrorKind::protocol) return fmt::format("{}: CDP error {}: {}", method, code, message);
  return fmt::format("{}: {}: {}", method, to_string(kind), message);
}

// A call waiting for its reply. Lives on the caller's coroutine frame; the timer is both the deadline
// and the wake-up: the reader stores the result and cancels it.
struct Connection::Pending {
  Pending(const asio::any_io_executor& executor, std::string_view method_name, std::string_view session)
      : timer(executor), method(method_name), session_id(session) {}
  asio::steady_timer timer;
  std::string method;
  std::string session_id;
  std::optional<Result<Json>> result;
};

Connection::Connection(Socket socket, std::size_t max_message_bytes)
    : socket_(std::move(socket)),
      max_message_bytes_(max_message_bytes),
      outbox_signal_(socket_.get_executor()) {
  socket_.read_message_max(max_message_bytes_);
  socket_.set_option(websocket::stream_base::timeout{kHandshakeTimeout, websocket::stream_base::none(), false});
  sessions_.emplace(std::string(), Session{.id = {}, .target_id = {}, .type = "browser", .url = {},
                                           .parent_id = {}, .waiting_for_debugger = false});
}

Connection::~Connection() { fail_all_pending("connection destroyed"); }

asio::awaitable<Result<std::unique_ptr<Connection>>> Connection::connect(std::string ws_url,
                                                                         std::size_t max_message_bytes) {
  const std::string method = "connect";
  auto address = parse_ws_url(ws_url);
  if (!address) co_return Error{ErrorKind::bad_message, method, 0, "not a ws://HOST:PORT/PATH URL: " + ws_url};
  if (!is_loopback_host(address->host))
    co_return Error{ErrorKind::connection_closed, method, 0, "refusing a non-loopback DevTools address: " + ws_url};

  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address->host == "localhost" ? "127.0.0.1" : address->host, ec);
  if (ec)
    co_return Error{ErrorKind::connection_closed, method, 0, "refusing a non-loopback DevTools address: " + ws_url};

  auto executor = co_await asio::this_coro::executor;
  Socket socket(executor);
  // Step 1: TCP connect, under a deadline.
  beast::get_lowest_layer(socket).expires_after(kHandshakeTimeout);
  auto [connect_ec] = co_await beast::get_lowest_layer(socket).async_connect(tcp::endpoint(ip, address->port), kNoThrow);
  if (connect_ec) co_return Error{ErrorKind::connection_closed, method, 0, "connect " + ws_url + ": " + connect_ec.message()};
  // Step 2: WebSocket handshake; the stream's own timeout option takes over after it. No Nagle:
  // pipelined calls (a CPU sample while Page.navigate is pending) must not wait 40 ms for an ACK.
  beast::get_lowest_layer(socket).expires_never();
  boost::system::error_code nodelay_ec;
  beast::get_lowest_layer(socket).socket().set_option(tcp::no_delay(true), nodelay_ec);
  socket.set_option(websocket::stream_base::timeout{kHandshakeTimeout, websocket::stream_base::none(), false});
  const std::string host_header = ip.is_v6() ? fmt::format("[{}]:{}", ip.to_string(), address->port)
                                             : fmt::format("{}:{}", ip.to_string(), address->port);
  auto [handshake_ec] = co_await socket.async_handshake(host_header, address->target, kNoThrow);
  if (handshake_ec)
    co_return Error{ErrorKind::connection_closed, method, 0, "WebSocket handshake with " + ws_url + ": " + handshake_ec.message()};
  co_return std::make_unique<Connection>(std::move(socket), max_message_bytes);
}

asio::awaitable<void> Connection::run() {
  using namespace asio::experimental::awaitable_operators;
  co_await (read_loop() && write_loop());
}

asio::awaitable<void> Connection::read_loop() {
  beast::flat_buffer buffer;
  std::string reason;
  for (;;) {
    // One read in flight; never raced against a timer (Beast 1.81 reads only take terminal cancellation).
    auto [ec, bytes] = co_await socket_.async_read(buffer, kNoThrow);
    if (ec) {
      reason = closing_ ? "closed by cjcrawl" : describe_read_error(ec, max_message_bytes_);
      break;
    }
    ++counters_.messages_received;
    const auto data = buffer.cdata();
    handle_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer.consume(buffer.size());
    if (buffer.capacity() > kKeptReadBufferBytes) buffer = beast::flat_buffer();
  }
  if (!closing_ && reason != "closed by the peer") spdlog::debug("CDP connection ended: {}", reason);
  open_ = false;
  close_reason_ = reason;
  fail_all_pending(reason);
  outbox_signal_.cancel();
  // Make sure the transport is down so the writer cannot block on it.
  boost::system::error_code ignored;
  beast::get_lowest_layer(socket_).socket().close(ignored);
}

asio::awaitable<void> Connection::write_loop() {
  for (;;) {
    if (!open_) co_return;
    if (outbox_.empty()) {
      if (closing_) break;
      // Wait for close() or a new message; both cancel this timer.
      outbox_signal_.expires_at(asio::steady_timer::time_point::max());
      co_await outbox_signal_.async_wait(kNoThrow);
      continue;
    }
    // One write in flight at a time, in queue order.
    std::string message = std::move(outbox_.front());
    outbox_.pop_front();
    socket_.text(true);
    auto [ec, bytes] = co_await socket_.async_write(asio::buffer(message), kNoThrow);
    if (ec) {
      spdlog::debug("CDP write failed: {}", ec.message());
      boost::system::error_code ignored;
      beast::get_lowest_layer(socket_).socket().close(ignored);
      co_return;
    }
  }
  // Close handshake, bounded by the stream's handshake timeout; the reader then sees `closed`.
  if (open_) {
    auto [ec] = co_await socket_.async_close(websocket::close_code::normal, kNoThrow);
    if (ec) {
      boost::system::error_code ignored;
      beast::get_lowest_layer(socket_).socket().close(ignored);
    }
  }
}

asio::awaitable<void> Connection::close() {
  closing_ = true;
  outbox_signal_.cancel();
  co_return;
}

asio::awaitable<Result<Json>> Connection::call(std::string_view method, Json params, std::string_view session_id,
                                               std::chrono::milliseconds timeout) {
  if (!open_ || closing_)
    co_return Error{ErrorKind::connection_closed, std::string(method), 0,
                    close_reason_.empty() ? std::string("connection is closing") : close_reason_};
  const std::int64_t id = next_id_++;
  Json message{{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (!session_id.empty()) message["sessionId"] = session_id;

  Pending pending(socket_.get_executor(), method, session_id);
  pending.timer.expires_after(timeout);
  pending_.emplace(id, &pending);
  // If this frame is destroyed without resuming (io_context torn down), still unregister the call,
  // unless the connection itself is already gone.
  struct Unregister {
    std::weak_ptr<int> alive;
    std::unordered_map<std::int64_t, Pending*>* pending;
    std::int64_t id;
    ~Unregister() {
      if (!alive.expired()) pending->erase(id);
    }
  } unregister{alive_, &pending_, id};
  // Strings in params may come from pages (URLs): never let invalid UTF-8 throw here.
  outbox_.push_back(message.dump(-1, ' ', false, Json::error_handler_t::replace));
  if (spdlog::should_log(spdlog::level::trace))  // [its size in bytes], then its start
    spdlog::trace("CDP -> [{}] {:.{}}", outbox_.back().size(), outbox_.back(), kTraceBytes);
  outbox_signal_.cancel();

  // Wait for the reply (the reader cancels the timer) or the deadline.
  co_await pending.timer.async_wait(kNoThrow);
  if (pending.result) co_return std::move(*pending.result);
  co_return Error{ErrorKind::timeout, std::string(method), 0, fmt::format("no reply within {} ms", timeout.count())};
}

namespace {
// The method of an event as Chrome writes it: `{"method":"Domain.event",...}` (events start with
// their method; replies with "id"). Empty when the text does not start that way: it is then parsed.
std::string_view leading_method(std::string_view text) {
  constexpr std::string_view kPrefix = R"({"method":")";
  if (!text.starts_with(kPrefix)) return {};
  text.remove_prefix(kPrefix.size());
  const auto end = text.find('"');
  if (end == std::string_view::npos || end > 128) return {};
  const auto method = text.substr(0, end);
  if (method.find('\\') != std::string_view::npos) return {};
  return method;
}
}  // namespace

void Connection::handle_message(std::string_view text) {
  if (spdlog::should_log(spdlog::level::trace))
    spdlog::trace("CDP <- [{}] {:.{}}", text.size(), text, kTraceBytes);
  // Events nobody handles are not parsed: on a busy page most of Chrome's messages are network
  // progress and console output. Target.* events always are (they keep the sessions).
  if (skip_event_) {
    const auto method = leading_method(text);
    if (!method.empty() && !method.starts_with("Target.") && skip_event_(method)) {
      ++counters_.events_skipped;
      return;
    }
  }
  // A reply whose result holds only strings (a script's source: most of the bytes read) is decoded
  // without the general parser; anything else falls through to it.
  if (const auto id = leading_reply_id(text)) {
    if (auto it = pending_.find(*id); it != pending_.end() && !it->second->result) {
      if (auto result = parse_string_result(text)) {
        it->second->result.emplace(std::move(*result));
        it->second->timer.cancel();
        return;
      }
    }
  }
  auto parse = [&](std::string_view json) {
    return pruned_keys_.empty() ? Json::parse(json, nullptr, /*allow_exceptions=*/false) : parse_pruned(json, pruned_keys_);
  };
  Json message = parse(text);
  if (message.is_discarded()) {
    // Chrome escapes a page's lone UTF-16 surrogates as they are; the strict parser refuses them.
    if (const auto repaired = replace_lone_surrogates(text)) {
      message = parse(*repaired);
      ++counters_.lone_surrogates_replaced;
    }
  }
  if (message.is_discarded() || !message.is_object()) {
    ++counters_.bad_messages;
    return;
  }
  if (auto id = message.find("id"); id != message.end() && id->is_number_integer()) {
    auto it = pending_.find(id->get<std::int64_t>());
    if (it == pending_.end()) {
      ++counters_.late_replies;
      return;
    }
    Pending& pending = *it->second;
    if (auto error = message.find("error"); error != message.end() && error->is_object()) {
      pending.result.emplace(Error{ErrorKind::protocol, pending.method, error->value("code", 0),
                                   error->value("message", std::string("unknown error"))});
    } else if (auto result = message.find("result"); result != message.end()) {
      pending.result.emplace(std::move(*result));
    } else {
      pending.result.emplace(Json::object());
    }
    pending.timer.cancel();
    return;
  }
  auto method = message.find("method");
  if (method == message.end() || !method->is_string()) {
    ++counters_.bad_messages;
    return;
  }
  static const Json kEmpty = Json::object();
  auto params = message.find("params");
  dispatch_event(message.value("sessionId", std::string()), method->get<std::string>(),
                 params != message.end() ? *params : kEmpty);
}

void Connection::dispatch_event(const std::string& session_id, const std::string& method, const Json& params) {
  auto origin = sessions_.find(session_id);
  if (origin == sessions_.end()) {
    ++counters_.unknown_session_events;
    return;
  }
  // The child session exists before anything can be dispatched for it.
  if (method == "Target.attachedToTarget") {
    const Json& info = params.value("targetInfo", Json::object());
    Session child{.id = params.value("sessionId", std::string()),
                  .target_id = info.value("targetId", std::string()),
                  .type = info.value("type", std::string()),
                  .url = info.value("url", std::string()),
                  .parent_id = session_id,
                  .waiting_for_debugger = params.value("waitingForDebugger", false)};
    if (!child.id.empty()) sessions_.insert_or_assign(child.id, std::move(child));
  } else if (method == "Page.frameNavigated") {
    // A page's URL is its main frame's (a popup attaches before it has one; our page at about:blank).
    const Json& frame = params.value("frame", Json::object());
    if (!frame.contains("parentId")) origin->second.url = frame.value("url", origin->second.url);
  } else if (method == "Target.targetInfoChanged") {
    const Json& info = params.value("targetInfo", Json::object());
    const std::string target_id = info.value("targetId", std::string());
    for (auto& [id, session] : sessions_)
      if (!target_id.empty() && session.target_id == target_id) session.url = info.value("url", session.url);
  }

  ++counters_.events_dispatched;
  if (handler_) {
    try {
      handler_(origin->second, method, params);
    } catch (const std::exception& e) {
      ++counters_.handler_errors;
      spdlog::error("CDP event handler failed on {}: {}", method, e.what());
    }
  }
  if (method == "Target.detachedFromTarget") {
    const std::string child = params.value("sessionId", std::string());
    if (!child.empty()) {
      sessions_.erase(child);
      // A detached target never answers: its calls fail now rather than at their deadlines.
      for (auto& [id, pending] : pending_) {
        if (pending->session_id != child || pending->result) continue;
        pending->result.emplace(Error{ErrorKind::target_detached, pending->method, 0, "the target detached"});
        pending->timer.cancel();
      }
    }
  }
}

void Connection::fail_all_pending(const std::string& reason) {
  for (auto& [id, pending] : pending_) {
    if (!pending->result) pending->result.emplace(Error{ErrorKind::connection_closed, pending->method, 0, reason});
    pending->timer.cancel();
  }
}

const Session* Connection::session(std::string_view id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

}  // namespace cdp
