// tests/support/scripted_transport.cpp — see scripted_transport.hpp.
#include "tests/support/scripted_transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace testsupport {

namespace asio = boost::asio;
using Json = nlohmann::json;

void ScriptedPeer::push(std::string message) {
  inbox_.push_back(std::move(message));
  wake();
}

void ScriptedPeer::reply(const Json& command, Json result) {
  Json message{{"id", command.at("id")}, {"result", std::move(result)}};
  if (command.contains("sessionId")) message["sessionId"] = command["sessionId"];
  push(message);
}

void ScriptedPeer::reply_error(const Json& command, int code, std::string text) {
  Json message{{"id", command.at("id")}, {"error", {{"code", code}, {"message", std::move(text)}}}};
  if (command.contains("sessionId")) message["sessionId"] = command["sessionId"];
  push(message);
}

void ScriptedPeer::event(std::string_view method, Json params, std::string_view session_id) {
  Json message{{"method", method}, {"params", std::move(params)}};
  if (!session_id.empty()) message["sessionId"] = session_id;
  push(message);
}

void ScriptedPeer::end(std::string reason) {
  if (ended_) return;
  ended_ = true;
  end_reason_ = std::move(reason);
  wake();
}

// (Not in an anonymous namespace: ScriptedPeer befriends it by this name.)
class ScriptedTransport final : public cdp::Transport {
 public:
  ScriptedTransport(std::shared_ptr<ScriptedPeer> peer, asio::any_io_executor executor)
      : peer_(std::move(peer)), wake_(std::move(executor)) {}
  ~ScriptedTransport() override {
    if (peer_->waiting_ == &wake_) peer_->waiting_ = nullptr;
  }

  asio::awaitable<util::Result<std::string_view>> read() override {
    while (peer_->inbox_.empty()) {
      if (peer_->ended_) co_return util::make_error(util::ErrorCode::connection_closed, "read", peer_->end_reason_);
      wake_.expires_at(asio::steady_timer::time_point::max());
      peer_->waiting_ = &wake_;
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
      peer_->waiting_ = nullptr;
    }
    current_ = std::move(peer_->inbox_.front());
    peer_->inbox_.pop_front();
    co_return std::string_view(current_);
  }

  asio::awaitable<util::Status> write(const std::string& message) override {
    if (peer_->ended_) co_return util::make_error(util::ErrorCode::connection_closed, "write", "the peer is gone");
    Json command = Json::parse(message);
    peer_->sent_.push_back(command);
    if (peer_->on_command_) peer_->on_command_(command);
    co_return util::Status{};
  }

  asio::awaitable<void> close() override {
    peer_->end("closed by cjcrawl");
    co_return;
  }

  void abort() noexcept override { peer_->end("aborted"); }

 private:
  std::shared_ptr<ScriptedPeer> peer_;
  asio::steady_timer wake_;
  std::string current_;
};

std::unique_ptr<cdp::Transport> make_scripted_transport(std::shared_ptr<ScriptedPeer> peer,
                                                        asio::any_io_executor executor) {
  return std::make_unique<ScriptedTransport>(std::move(peer), std::move(executor));
}

}  // namespace testsupport
