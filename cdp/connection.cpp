// cdp/connection.cpp — the DevTools connection: reader loop, writer queue, pending calls, sessions.
#include "cdp/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace cdp {
namespace {

using util::ErrorCode;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// -vv logs every CDP message, cut to this many bytes (a script source can be megabytes).
constexpr std::size_t kTraceBytes = 1000;

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

// A call waiting for its reply. Lives on the caller's coroutine frame; the timer is both the deadline
// and the wake-up: the reader stores the result and cancels it.
struct Connection::Pending {
  Pending(const asio::any_io_executor& executor, std::string_view method_name, std::string_view session)
      : timer(executor), method(method_name), session_id(session) {}
  asio::steady_timer timer;
  std::string method;
  std::string session_id;
  std::optional<util::Result<Json>> result;
};

Connection::Connection(std::unique_ptr<Transport> transport, asio::any_io_executor executor)
    : transport_(std::move(transport)), executor_(std::move(executor)), outbox_signal_(executor_) {
  targets_.emplace(std::string(), TargetInfo{.session_id = {},
                                             .target_id = {},
                                             .type = "browser",
                                             .url = {},
                                             .parent_session_id = {},
                                             .browser_context_id = {},
                                             .waiting_for_debugger = false});
}

Connection::~Connection() { fail_all_pending("connection destroyed"); }

asio::awaitable<util::Result<std::unique_ptr<Connection>>> Connection::connect(std::string ws_url,
                                                                               std::size_t max_message_bytes) {
  auto transport = co_await connect_websocket(std::move(ws_url), max_message_bytes);
  if (!transport) co_return transport.error();
  auto executor = co_await asio::this_coro::executor;
  co_return std::make_unique<Connection>(std::move(transport).value(), executor);
}

asio::awaitable<void> Connection::run() {
  using namespace asio::experimental::awaitable_operators;
  co_await (read_loop() && write_loop());
}

asio::awaitable<void> Connection::read_loop() {
  std::string reason;
  for (;;) {
    // One read in flight; never raced against a timer (see websocket_transport.cpp).
    auto message = co_await transport_->read();
    if (!message) {
      reason = closing_ ? "closed by cjcrawl" : message.error().message;
      break;
    }
    ++counters_.messages_received;
    handle_message(*message);
  }
  if (!closing_ && reason != "closed by the peer") spdlog::debug("CDP connection ended: {}", reason);
  open_ = false;
  close_reason_ = reason;
  fail_all_pending(reason);
  outbox_signal_.cancel();
  // Make sure the transport is down so the writer cannot block on it.
  transport_->abort();
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
    auto written = co_await transport_->write(message);
    if (!written) {
      spdlog::debug("CDP write failed: {}", written.error().message);
      transport_->abort();
      co_return;
    }
  }
  // The orderly close, bounded by the transport; the reader then sees the end.
  if (open_) co_await transport_->close();
}

asio::awaitable<void> Connection::close() {
  closing_ = true;
  outbox_signal_.cancel();
  co_return;
}

asio::awaitable<util::Result<Json>> Connection::call(std::string_view method, Json params, std::string_view session_id,
                                                     std::chrono::milliseconds timeout) {
  if (!open_ || closing_)
    co_return util::make_error(ErrorCode::connection_closed, std::string(method),
                               close_reason_.empty() ? std::string("connection is closing") : close_reason_);
  // A target that detached never answers: fail now rather than at the deadline.
  if (!targets_.contains(session_id))
    co_return util::make_error(ErrorCode::target_gone, std::string(method), "the target detached");
  const std::int64_t id = next_id_++;
  Json message{{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (!session_id.empty()) message["sessionId"] = session_id;

  Pending pending(executor_, method, session_id);
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
  co_return util::make_error(ErrorCode::timeout, std::string(method),
                             fmt::format("no reply within {} ms", timeout.count()));
}

void Connection::handle_message(std::string_view text) {
  if (spdlog::should_log(spdlog::level::trace)) spdlog::trace("CDP <- [{}] {:.{}}", text.size(), text, kTraceBytes);
  // Events nobody handles are not parsed: on a busy page most of Chrome's messages are network
  // progress and console output. Target.* events always are (they keep the sessions).
  if (skip_event_) {
    const auto method = leading_method(text);
    if (!method.empty() && !method.starts_with("Target.") && skip_event_(method, text)) {
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
    return pruned_keys_.empty() ? Json::parse(json, nullptr, /*allow_exceptions=*/false)
                                : parse_pruned(json, pruned_keys_);
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
    deliver_reply(id->get<std::int64_t>(), message);
    return;
  }
  auto method = message.find("method");
  if (method == message.end() || !method->is_string()) {
    ++counters_.bad_messages;
    return;
  }
  // A sessionId is a string; value() would throw on another type and end the reader loop (found by
  // fuzzing, tests/fuzz/regressions/cdp_router/).
  const auto session = message.find("sessionId");
  if (session != message.end() && !session->is_string()) {
    ++counters_.bad_messages;
    return;
  }
  static const Json kEmpty = Json::object();
  auto params = message.find("params");
  dispatch_event(session != message.end() ? session->get<std::string>() : std::string(), method->get<std::string>(),
                 params != message.end() ? *params : kEmpty);
}

void Connection::deliver_reply(std::int64_t id, Json& message) {
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    ++counters_.late_replies;
    return;
  }
  Pending& pending = *it->second;
  if (auto error = message.find("error"); error != message.end() && error->is_object()) {
    // Chrome's error has a string message and an integer code; value() would throw on another type
    // and end the reader loop (found with the fuzz target, tests/fuzz/regressions/cdp_router/).
    const auto text = error->find("message");
    const auto code = error->find("code");
    pending.result.emplace(util::make_error(
        ErrorCode::protocol, pending.method,
        text != error->end() && text->is_string() ? text->get<std::string>() : std::string("unknown error"),
        code != error->end() && code->is_number_integer() ? code->get<long>() : 0L));
  } else if (auto result = message.find("result"); result != message.end()) {
    pending.result.emplace(std::move(*result));
  } else {
    pending.result.emplace(Json::object());
  }
  pending.timer.cancel();
}

void Connection::dispatch_event(const std::string& session_id, const std::string& method, const Json& params) {
  auto origin = targets_.find(session_id);
  if (origin == targets_.end()) {
    ++counters_.unknown_session_events;
    return;
  }
  // The session table follows Target.* events and frame navigations, whose fields Chrome writes with
  // fixed types. A message with another type there (a non-object frame, a numeric url) is a bad
  // message, never an exception out of the reader loop, which would end the connection (found by
  // fuzzing, tests/fuzz/regressions/cdp_router/).
  std::string detached_session;
  try {
    // The child's TargetInfo exists before anything can be dispatched for it.
    if (method == "Target.attachedToTarget") {
      const Json& info = params.value("targetInfo", Json::object());
      TargetInfo child{.session_id = params.value("sessionId", std::string()),
                       .target_id = info.value("targetId", std::string()),
                       .type = info.value("type", std::string()),
                       .url = info.value("url", std::string()),
                       .parent_session_id = session_id,
                       .browser_context_id = info.value("browserContextId", std::string()),
                       .waiting_for_debugger = params.value("waitingForDebugger", false)};
      if (!child.session_id.empty()) targets_.insert_or_assign(child.session_id, std::move(child));
    } else if (method == "Page.frameNavigated") {
      // A page's URL is its main frame's (a popup attaches before it has one; our page at about:blank).
      const Json& frame = params.value("frame", Json::object());
      if (!frame.contains("parentId")) origin->second.url = frame.value("url", origin->second.url);
    } else if (method == "Target.targetInfoChanged") {
      const Json& info = params.value("targetInfo", Json::object());
      const std::string target_id = info.value("targetId", std::string());
      for (auto& [id, target] : targets_)
        if (!target_id.empty() && target.target_id == target_id) target.url = info.value("url", target.url);
    } else if (method == "Target.detachedFromTarget") {
      detached_session = params.value("sessionId", std::string());
    }
  } catch (const Json::exception&) {
    ++counters_.bad_messages;
    return;
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
    const std::string& child = detached_session;
    if (!child.empty()) {
      targets_.erase(child);
      // A detached target never answers: its calls fail now rather than at their deadlines.
      for (auto& [id, pending] : pending_) {
        if (pending->session_id != child || pending->result) continue;
        pending->result.emplace(util::make_error(ErrorCode::target_gone, pending->method, "the target detached"));
        pending->timer.cancel();
      }
    }
  }
}

void Connection::fail_all_pending(const std::string& reason) {
  for (auto& [id, pending] : pending_) {
    if (!pending->result)
      pending->result.emplace(util::make_error(ErrorCode::connection_closed, pending->method, reason));
    pending->timer.cancel();
  }
}

const TargetInfo* Connection::target(std::string_view session_id) const {
  auto it = targets_.find(session_id);
  return it == targets_.end() ? nullptr : &it->second;
}

}  // namespace cdp
