// cdp/target_manager.cpp — see target_manager.hpp.
#include "cdp/target_manager.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cdp/commands.hpp"

namespace cdp {
namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

// The replies a wiring still waits for; the last one wakes the wiring task.
struct TargetManager::Wiring {
  explicit Wiring(const asio::any_io_executor& executor, Session target_session, std::string target_type)
      : answered(executor), session(std::move(target_session)), type(std::move(target_type)) {}
  int unanswered = 0;
  asio::steady_timer answered;
  Session session;
  std::string type;
};

TargetManager::TargetManager(Connection& connection, std::weak_ptr<void> owner)
    : connection_(connection), owner_(std::move(owner)) {}

asio::awaitable<util::Status> TargetManager::start() {
  // Auto-attach with flatten on the browser session catches popups and shared/service workers,
  // which page-level auto-attach misses. No target discovery: attached targets are all a visit
  // watches (their crashes arrive as Inspector.targetCrashed on their own session), and discovery's
  // targetCreated/InfoChanged/Destroyed events were a sixth of all messages (measured, bench corpus).
  TargetSetAutoAttach auto_attach;
  auto_attach.skip_browser_ui = true;
  auto attached = co_await connection_.send(auto_attach);
  if (!attached) {
    auto error = attached.error();
    error.message = "cannot auto-attach to targets: " + error.message;
    co_return error;
  }
  co_return util::Status{};
}

void TargetManager::set_listener(TargetListener* listener) {
  listener_ = listener;
  ++generation_;
  reported_sessions_.clear();
  spare_sessions_.clear();
}

void TargetManager::handle(const TargetInfo& origin, std::string_view method, const Json& params) {
  (void)origin;
  // Only attach and detach matter here; another Target.* event may carry anything under "sessionId",
  // and a page must not turn that into a handler error (found by fuzzing the router).
  if (method != "Target.attachedToTarget" && method != "Target.detachedFromTarget") return;
  const auto found = params.find("sessionId");
  const std::string session_id = found != params.end() && found->is_string() ? found->get<std::string>() : "";
  const TargetInfo* target = session_id.empty() ? nullptr : connection_.target(session_id);
  if (!target) return;
  if (method == "Target.attachedToTarget") {
    attach(*target);
  } else if (method == "Target.detachedFromTarget") {
    detach(*target);
  }
}

void TargetManager::attach(const TargetInfo& target) {
  // Between visits (no listener), Chrome's own targets (the first about:blank) and stragglers of a
  // disposed context attach here: resumed, or they would wait for ever.
  if (!listener_ && !target.waiting_for_debugger) return;
  bool instrument = false;
  if (listener_) {
    const auto [reported, first] = reported_sessions_.try_emplace(target.target_id, target.session_id);
    if (!first && reported->second != target.session_id) {
      ++duplicate_attachments_;
      spare_sessions_.insert_or_assign(target.target_id, target.session_id);
    } else {
      instrument = listener_->on_attached(target);
    }
  }
  auto keep_alive = owner_.lock();
  if (!keep_alive) return;
  ++wirings_in_flight_;
  asio::co_spawn(connection_.executor(), wire(target, instrument, generation_),
                 [this, keep_alive](std::exception_ptr failure) {
                   --wirings_in_flight_;
                   if (failure) spdlog::error("wiring a target failed (a bug)");
                 });
}

void TargetManager::detach(const TargetInfo& target) {
  if (!listener_) return;
  if (const auto spare = spare_sessions_.find(target.target_id);
      spare != spare_sessions_.end() && spare->second == target.session_id) {
    spare_sessions_.erase(spare);  // never reported, so nothing to tell
    return;
  }
  listener_->on_detached(target);
  const auto reported = reported_sessions_.find(target.target_id);
  if (reported == reported_sessions_.end() || reported->second != target.session_id) return;
  reported_sessions_.erase(reported);
  const auto spare = spare_sessions_.find(target.target_id);
  if (spare == spare_sessions_.end()) return;
  const TargetInfo* successor = connection_.target(spare->second);
  spare_sessions_.erase(spare);
  if (successor) attach(*successor);  // the target lives on: its spare session takes over
}

template <class Command>
void TargetManager::send_step(const std::shared_ptr<Wiring>& wiring, Command command) {
  ++wiring->unanswered;
  auto step = [](std::shared_ptr<Wiring> state, Command sent) -> asio::awaitable<void> {
    auto reply = co_await state->session.send(sent, kWiringTimeout);
    if (!reply) spdlog::debug("{} on {} target: {}", Command::kMethod, state->type, reply.error().describe());
    if (--state->unanswered == 0) state->answered.cancel();
  };
  // Each step starts in the order it was spawned, so the commands go out in this order. The owner
  // (and with it the Connection) lives until the reply is in.
  asio::co_spawn(connection_.executor(), step(wiring, std::move(command)),
                 [keep_alive = owner_.lock()](std::exception_ptr) {});
}

asio::awaitable<void> TargetManager::wire(TargetInfo target, bool instrument, std::uint64_t generation) {
  auto wiring = std::make_shared<Wiring>(connection_.executor(), Session(connection_, target.session_id), target.type);
  if (instrument) {
    NetworkEnable network;
    network.buffer_bodies = is_worker_type(target.type);
    send_step(wiring, network);
    send_step(wiring, DebuggerEnable{});
    send_step(wiring, DebuggerSetSkipAllPauses{});
    if (target.type == "page" || target.type == "iframe") send_step(wiring, PageEnable{});
    send_step(wiring, TargetSetAutoAttach{});
  }
  // Always last, and always sent: a target left waiting for the debugger never runs.
  send_step(wiring, RuntimeRunIfWaitingForDebugger{});
  // Every reply in (the last cancels the wait), or the deadline. Each step has its own deadline
  // too, so this one only bounds the wait should a step never start.
  wiring->answered.expires_after(kWiringTimeout + std::chrono::seconds(1));
  co_await wiring->answered.async_wait(kNoThrow);
  if (listener_ && generation == generation_) listener_->on_wired(target, instrument);
}

asio::awaitable<util::Result<std::string>> TargetManager::create_context() {
  const TargetCreateBrowserContext create;
  auto created = co_await connection_.send(create, {}, kWiringTimeout);
  if (!created) co_return created.error();
  co_return std::move(created->browser_context_id);
}

asio::awaitable<util::Result<std::string>> TargetManager::open_page(std::string context_id) {
  // (named locals: g++ 12 miscompiles braced temporaries inside co_await)
  const TargetCreateTarget blank_page{"about:blank", std::move(context_id)};
  auto created = co_await connection_.send(blank_page, {}, kWiringTimeout);
  if (!created) co_return created.error();
  co_return std::move(created->target_id);
}

asio::awaitable<util::Status> TargetManager::dispose_context(std::string context_id,
                                                             std::chrono::milliseconds timeout) {
  const TargetDisposeBrowserContext dispose{std::move(context_id)};
  auto disposed = co_await connection_.send(dispose, {}, timeout);
  if (!disposed) co_return disposed.error();
  co_return util::Status{};
}

}  // namespace cdp
