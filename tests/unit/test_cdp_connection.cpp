// tests/unit/test_cdp_connection.cpp — cdp::Connection against an in-process fake CDP server: what a
// caller sees for out-of-order replies, error replies, deadlines, a socket that dies mid-call, huge and
// oversized messages, sessions that attach and detach, garbage from the peer, and non-loopback URLs.
//
// The fake server is one scripted WebSocket peer on 127.0.0.1:0, run by its own io_context on its own
// thread. It never asserts (Catch2 v2 is not thread-safe): it records the requests it read and any
// script failure under a mutex, and the test thread asserts on snapshots. The client runs on the test
// thread's io_context, always driven with a time bound so a bug fails the case instead of hanging it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "cdp/connection.hpp"
#include "util/status.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// The most any single step of a case may take before the case fails; cases normally take milliseconds.
constexpr std::chrono::milliseconds kStepBound{5'000};
// Calls that the script answers get this deadline, far above any expected reply time.
constexpr std::chrono::milliseconds kGenerousTimeout{10'000};

// ---------------------------------------------------------------------------------------------------
// The fake CDP server.

// An unmasked, unfragmented server-to-client text frame (RFC 6455 5.2), for writing several messages
// in one TCP write so the client finds them in one read buffer.
std::string text_frame(std::string_view payload) {
  std::string frame(1, '\x81');  // FIN + text opcode
  const std::uint64_t size = payload.size();
  if (size < 126) {
    frame.push_back(static_cast<char>(size));
  } else if (size <= 0xFFFF) {
    frame.push_back(static_cast<char>(126));
    for (int shift = 8; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((size >> shift) & 0xFF));
  } else {
    frame.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((size >> shift) & 0xFF));
  }
  frame.append(payload);
  return frame;
}

// Chrome's reply to `request`, carrying the request's sessionId back as Chrome does.
std::string reply_to(const Json& request, Json result) {
  Json reply = Json::object();
  reply["id"] = request.at("id");
  reply["result"] = std::move(result);
  if (request.contains("sessionId")) reply["sessionId"] = request["sessionId"];
  return reply.dump();
}

// {"id":ID,"result":{"data":"xxx…"}} with `bytes` x's, built directly rather than through Json.
std::string reply_with_data(const Json& request, std::size_t bytes) {
  std::string text = R"({"id":)" + request.at("id").dump() + R"(,"result":{"data":")";
  text.append(bytes, 'x');
  text += "\"}}";
  return text;
}

std::string event(std::string_view method, Json params, std::string_view session_id = {}) {
  Json message = Json::object();
  message["method"] = method;
  message["params"] = std::move(params);
  if (!session_id.empty()) message["sessionId"] = session_id;
  return message.dump();
}

// The server side of one accepted WebSocket, handed to a test's script. Errors throw; the server
// records them as the script's failure.
class FakePeer {
 public:
  using Stream = websocket::stream<tcp::socket>;

  explicit FakePeer(Stream& stream, std::function<void(const Json&)> record)
      : stream_(stream), record_(std::move(record)) {}

  // The next request from the client, parsed and recorded.
  asio::awaitable<Json> read_request() {
    beast::flat_buffer buffer;
    auto [ec, bytes] = co_await stream_.async_read(buffer, kNoThrow);
    if (ec) throw std::runtime_error("fake server: read failed: " + ec.message());
    Json request = Json::parse(beast::buffers_to_string(buffer.data()));
    record_(request);
    co_return request;
  }

  asio::awaitable<void> send(std::string text) {
    stream_.text(true);
    auto [ec, bytes] = co_await stream_.async_write(asio::buffer(text), kNoThrow);
    if (ec) throw std::runtime_error("fake server: write failed: " + ec.message());
  }

  // Several messages in one TCP write, so they reach the client together.
  asio::awaitable<void> send_together(std::vector<std::string> messages) {
    std::string frames;
    for (const auto& message : messages) frames += text_frame(message);
    co_await send_raw(std::move(frames));
  }

  // A WebSocket close frame (code 1000), written raw so the stream does not start its own handshake:
  // the client answers it and the echo tail's read then sees the close.
  asio::awaitable<void> send_close_frame() {
    std::string frame("\x88\x02\x03\xe8", 4);
    co_await send_raw(std::move(frame));
  }

  // Drops the TCP connection without a WebSocket close, as a crashing Chrome does.
  void drop() {
    boost::system::error_code ignored;
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
    dropped_ = true;
  }
  bool dropped() const { return dropped_; }

  // After the script: answer every further call with {"echo": method} until the client goes away.
  asio::awaitable<void> echo_until_closed() {
    for (;;) {
      beast::flat_buffer buffer;
      auto [ec, bytes] = co_await stream_.async_read(buffer, kNoThrow);
      if (ec) co_return;  // the client closed (or dropped us): the session is over
      Json request = Json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      if (request.is_discarded()) continue;
      record_(request);
      Json result = Json::object();
      result["echo"] = request.value("method", std::string());
      std::string text = reply_to(request, std::move(result));
      stream_.text(true);
      auto [write_ec, written] = co_await stream_.async_write(asio::buffer(text), kNoThrow);
      if (write_ec) co_return;
    }
  }

 private:
  asio::awaitable<void> send_raw(std::string bytes) {
    auto [ec, written] = co_await asio::async_write(stream_.next_layer(), asio::buffer(bytes), kNoThrow);
    if (ec) throw std::runtime_error("fake server: raw write failed: " + ec.message());
  }

  Stream& stream_;
  std::function<void(const Json&)> record_;
  bool dropped_ = false;
};

// Accepts one WebSocket client, runs the script on it, then echoes calls until the client closes.
class FakeCdpServer {
 public:
  using Script = std::function<asio::awaitable<void>(FakePeer&)>;

  explicit FakeCdpServer(Script script)
      : script_(std::move(script)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, serve(), [this](std::exception_ptr error) {
      std::string what;
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
          what = "fake server: non-standard exception";
        }
      }
      std::lock_guard lock(mutex_);
      failure_ = what;
      finished_ = true;
      finished_changed_.notify_all();
    });
    thread_ = std::thread([this] { io_.run(); });
  }

  ~FakeCdpServer() {
    io_.stop();
    thread_.join();
  }

  FakeCdpServer(const FakeCdpServer&) = delete;
  FakeCdpServer& operator=(const FakeCdpServer&) = delete;

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/devtools/browser/fake"; }

  // Every request read so far, in arrival order.
  std::vector<Json> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  // Waits (bounded) for the session to end; returns the script's failure, "" if it ran cleanly.
  std::string wait_finished() {
    std::unique_lock lock(mutex_);
    if (!finished_changed_.wait_for(lock, kStepBound, [this] { return finished_; }))
      return "fake server: session still running";
    return failure_;
  }

 private:
  asio::awaitable<void> serve() {
    tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
    acceptor_.close();
    // Without this, back-to-back small writes wait 40 ms for the client's delayed ACK (Nagle).
    socket.set_option(tcp::no_delay(true));
    FakePeer::Stream stream(std::move(socket));
    stream.read_message_max(1u << 20);
    co_await stream.async_accept(asio::use_awaitable);
    FakePeer peer(stream, [this](const Json& request) {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    });
    co_await script_(peer);
    if (!peer.dropped()) co_await peer.echo_until_closed();
  }

  Script script_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable finished_changed_;
  std::vector<Json> requests_;
  std::string failure_;
  bool finished_ = false;
};

// ---------------------------------------------------------------------------------------------------
// The client side, on the test thread.

void rethrow(std::exception_ptr error) {
  if (error) std::rethrow_exception(error);
}

struct CallOutcome {
  Clock::time_point started_at = Clock::now();
  Clock::time_point finished_at;
  std::optional<util::Result<Json>> result;

  bool done() const { return result.has_value(); }
  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(finished_at - started_at);
  }
};

asio::awaitable<void> await_into(asio::awaitable<util::Result<Json>> call, std::shared_ptr<CallOutcome> outcome) {
  auto result = co_await std::move(call);
  outcome->finished_at = Clock::now();
  outcome->result.emplace(std::move(result));
}

using ConnectOutcome = std::optional<util::Result<std::unique_ptr<cdp::Connection>>>;

asio::awaitable<void> connect_into(std::string url, std::size_t max_message_bytes,
                                   std::shared_ptr<ConnectOutcome> outcome) {
  auto result = co_await cdp::Connection::connect(std::move(url), max_message_bytes);
  outcome->emplace(std::move(result));
}

// A connected cdp::Connection with run() spawned on this thread's io_context.
class Client {
 public:
  explicit Client(const std::string& url, std::size_t max_message_bytes = cdp::kMaxMessageBytes) {
    auto outcome = std::make_shared<ConnectOutcome>();
    asio::co_spawn(io_, connect_into(url, max_message_bytes, outcome), rethrow);
    REQUIRE(run_until([&] { return outcome->has_value(); }));
    if (!**outcome) FAIL("connect failed: " << (*outcome)->error().describe());
    connection_ = std::move(**outcome).value();
    asio::co_spawn(io_, connection_->run(), [this](std::exception_ptr error) {
      run_finished_ = true;
      rethrow(error);
    });
  }

  // Closes the connection and lets run() finish (bounded), so nothing is left suspended.
  ~Client() {
    try {
      if (!run_finished_) {
        asio::co_spawn(io_, connection_->close(), rethrow);
        run_until([this] { return run_finished_; });
      }
      poll();
    } catch (...) {
      // A failing case has already been reported; teardown must not throw.
    }
    connection_.reset();
  }

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  cdp::Connection& connection() { return *connection_; }
  bool run_finished() const { return run_finished_; }

  // Starts a call; its outcome fills in as the io_context runs. `method` and `session_id` must outlive it.
  std::shared_ptr<CallOutcome> call(std::string_view method, Json params = Json::object(),
                                    std::string_view session_id = {},
                                    std::chrono::milliseconds timeout = kGenerousTimeout) {
    auto outcome = std::make_shared<CallOutcome>();
    asio::co_spawn(io_, await_into(connection_->call(method, std::move(params), session_id, timeout), outcome),
                   rethrow);
    return outcome;
  }

  // Runs the io_context until `done()` or `bound` elapses; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds bound = kStepBound) {
    const auto deadline = Clock::now() + bound;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      if (io_.run_one_until(deadline) == 0 && io_.stopped()) return done();  // nothing left to run
    }
    return true;
  }

  // Runs only what is ready now, without waiting for any I/O or timer.
  void poll() {
    if (io_.stopped()) io_.restart();
    io_.poll();
  }

 private:
  asio::io_context io_;
  std::unique_ptr<cdp::Connection> connection_;
  bool run_finished_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------------------

TEST_CASE("each concurrent call gets its own result when replies come back in reverse order", "[cdp]") {
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    std::vector<Json> requests;
    for (int i = 0; i < 3; ++i) {
      Json request = co_await peer.read_request();
      requests.push_back(std::move(request));
    }
    for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
      Json result = Json::object();
      result["echo"] = (*it)["params"];
      std::string text = reply_to(*it, std::move(result));
      co_await peer.send(std::move(text));
    }
  });
  {
    Client client(server.url());
    constexpr std::string_view kMethods[] = {"Test.first", "Test.second", "Test.third"};
    std::vector<std::shared_ptr<CallOutcome>> calls;
    for (int i = 0; i < 3; ++i) {
      Json params = Json::object();
      params["n"] = i;
      calls.push_back(client.call(kMethods[i], std::move(params)));
    }
    REQUIRE(
        client.run_until([&] { return std::all_of(calls.begin(), calls.end(), [](auto& c) { return c->done(); }); }));

    for (int i = 0; i < 3; ++i) {
      INFO("call " << i);
      REQUIRE(calls[i]->result->ok());
      CHECK(calls[i]->result->value().at("echo").at("n") == i);
    }
    const auto requests = server.requests();
    REQUIRE(requests.size() == 3);
    for (int i = 0; i < 3; ++i) CHECK(requests[i].at("method").get<std::string>() == kMethods[i]);
    CHECK(requests[0].at("id") != requests[1].at("id"));
    CHECK(requests[1].at("id") != requests[2].at("id"));
    CHECK(requests[0].at("id") != requests[2].at("id"));
  }
  CHECK(server.wait_finished() == "");
}

TEST_CASE("an error reply becomes a protocol error naming the method", "[cdp]") {
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    Json request = co_await peer.read_request();
    Json reply = Json::parse(R"({"error":{"code":-32000,"message":"No target"}})");
    reply["id"] = request.at("id");
    std::string text = reply.dump();
    co_await peer.send(std::move(text));
  });
  {
    Client client(server.url());
    auto call = client.call("Target.attachToTarget");
    REQUIRE(client.run_until([&] { return call->done(); }));

    REQUIRE_FALSE(call->result->ok());
    const util::Error& error = call->result->error();
    CHECK(error.code == util::ErrorCode::protocol);
    CHECK(error.native_code == -32000);
    CHECK(error.message == "No target");
    CHECK(error.context == "Target.attachToTarget");
    CHECK_THROWS_AS(call->result->value(), util::Failure);
    CHECK(client.connection().is_open());
  }
  CHECK(server.wait_finished() == "");
}

TEST_CASE("an unanswered call times out, its late reply is counted, and later calls still work", "[cdp]") {
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    Json slow = co_await peer.read_request();
    // The client sends its next call only after the first one timed out; answer the first one now.
    Json next = co_await peer.read_request();
    std::string late = reply_to(slow, Json::object());
    co_await peer.send(std::move(late));
    std::string answer = reply_to(next, Json::parse(R"({"ok":true})"));
    co_await peer.send(std::move(answer));
  });
  {
    Client client(server.url());
    auto slow = client.call("Test.slow", Json::object(), {}, 200ms);
    REQUIRE(client.run_until([&] { return slow->done(); }));
    REQUIRE_FALSE(slow->result->ok());
    CHECK(slow->result->error().code == util::ErrorCode::timeout);
    CHECK(slow->result->error().context == "Test.slow");
    CHECK(slow->elapsed() >= 200ms);
    CHECK(slow->elapsed() < 700ms);

    auto next = client.call("Test.next");
    REQUIRE(client.run_until([&] { return next->done(); }));
    REQUIRE(next->result->ok());
    CHECK(next->result->value().at("ok") == true);
    CHECK(client.connection().counters().late_replies == 1);

    auto after = client.call("Test.after");
    REQUIRE(client.run_until([&] { return after->done(); }));
    REQUIRE(after->result->ok());
    CHECK(after->result->value().at("echo") == "Test.after");
    CHECK(client.connection().is_open());
  }
  CHECK(server.wait_finished() == "");
}

TEST_CASE("when the socket closes mid-call every pending call fails at once with connection_closed", "[cdp]") {
  const bool websocket_close = GENERATE(false, true);
  INFO((websocket_close ? "server sends a WebSocket close" : "server drops the TCP connection"));
  FakeCdpServer server([websocket_close](FakePeer& peer) -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) co_await peer.read_request();
    if (!websocket_close) {
      peer.drop();
      co_return;
    }
    co_await peer.send_close_frame();
  });
  Client client(server.url());
  std::vector<std::shared_ptr<CallOutcome>> calls;
  for (std::string_view method : {"Test.a", "Test.b", "Test.c"})
    calls.push_back(client.call(method, Json::object(), {}, 30s));
  REQUIRE(client.run_until([&] { return std::all_of(calls.begin(), calls.end(), [](auto& c) { return c->done(); }); }));

  for (const auto& call : calls) {
    REQUIRE_FALSE(call->result->ok());
    CHECK(call->result->error().code == util::ErrorCode::connection_closed);
    CHECK(call->elapsed() < 1s);
  }
  REQUIRE(client.run_until([&] { return client.run_finished(); }, 1s));
  CHECK_FALSE(client.connection().is_open());
  CHECK_FALSE(client.connection().close_reason().empty());

  // A call on the dead connection fails without waiting for anything.
  auto late = client.call("Test.afterClose");
  client.poll();
  REQUIRE(late->done());
  REQUIRE_FALSE(late->result->ok());
  CHECK(late->result->error().code == util::ErrorCode::connection_closed);
  CHECK(server.wait_finished() == "");
}

TEST_CASE("a 20 MB reply arrives intact", "[cdp]") {
  constexpr std::size_t kBytes = 20u << 20;
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    Json request = co_await peer.read_request();
    std::string reply = reply_with_data(request, kBytes);
    co_await peer.send(std::move(reply));
  });
  {
    Client client(server.url());
    auto call = client.call("Debugger.getScriptSource");
    REQUIRE(client.run_until([&] { return call->done(); }, 20s));
    REQUIRE(call->result->ok());
    const std::string& data = call->result->value().at("data").get_ref<const std::string&>();
    CHECK(data.size() == kBytes);
    CHECK(std::all_of(data.begin(), data.end(), [](char c) { return c == 'x'; }));

    // The connection carries on after releasing the big read buffer.
    auto after = client.call("Test.after");
    REQUIRE(client.run_until([&] { return after->done(); }));
    CHECK(after->result->ok());
  }
  CHECK(server.wait_finished() == "");
}

TEST_CASE("a message over the size limit ends the connection with a clear reason", "[cdp]") {
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    Json request = co_await peer.read_request();
    std::string reply = reply_with_data(request, 2u << 20);
    try {
      co_await peer.send(std::move(reply));
    } catch (const std::runtime_error&) {
      // The client may drop us before the whole message is written: that is the point.
    }
  });
  Client client(server.url(), /*max_message_bytes=*/1u << 20);
  auto call = client.call("Debugger.getScriptSource", Json::object(), {}, 30s);
  REQUIRE(client.run_until([&] { return call->done(); }));
  REQUIRE_FALSE(call->result->ok());
  CHECK(call->result->error().code == util::ErrorCode::connection_closed);
  CHECK(call->elapsed() < 1s);

  REQUIRE(client.run_until([&] { return client.run_finished(); }));
  CHECK_FALSE(client.connection().is_open());
  CHECK_THAT(client.connection().close_reason(), Contains("1 MB limit"));
  CHECK_THAT(call->result->error().message, Contains("limit"));
  CHECK(server.wait_finished() == "");
}

TEST_CASE("events are routed to the session that attached them, and unknown sessions are counted", "[cdp]") {
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    std::string ghost = event("Runtime.consoleAPICalled", Json::object(), "GHOST");
    co_await peer.send(std::move(ghost));
    // Attach and the child's first event in one TCP write: the session must exist before dispatch.
    Json attach = Json::parse(R"({"sessionId":"S1","waitingForDebugger":true,
        "targetInfo":{"targetId":"T1","type":"worker","url":"http://127.0.0.1/miner.js"}})");
    std::vector<std::string> batch;
    batch.push_back(event("Target.attachedToTarget", std::move(attach)));
    batch.push_back(event("Runtime.executionContextCreated", Json::object(), "S1"));
    co_await peer.send_together(std::move(batch));
    // The client resumes the worker on S1 and makes one browser call.
    for (int i = 0; i < 2; ++i) {
      Json request = co_await peer.read_request();
      std::string reply = reply_to(request, Json::object());
      co_await peer.send(std::move(reply));
    }
    Json detach = Json::parse(R"({"sessionId":"S1","targetId":"T1"})");
    std::string detached = event("Target.detachedFromTarget", std::move(detach));
    co_await peer.send(std::move(detached));
    std::string stale = event("Runtime.consoleAPICalled", Json::object(), "S1");
    co_await peer.send(std::move(stale));
    std::string done = event("Test.done", Json::object());
    co_await peer.send(std::move(done));
  });
  {
    Client client(server.url());
    cdp::Connection& connection = client.connection();
    struct Seen {
      cdp::TargetInfo session;
      std::string method;
      bool s1_known = false;                     // connection.target("S1") at dispatch time
      std::uint64_t unknown_session_events = 0;  // the counter at dispatch time
    };
    std::vector<Seen> seen;
    connection.on_event([&](const cdp::TargetInfo& session, std::string_view method, const Json&) {
      seen.push_back({session, std::string(method), connection.target("S1") != nullptr,
                      connection.counters().unknown_session_events});
    });
    REQUIRE(client.run_until([&] { return seen.size() >= 2; }));

    auto resume = client.call("Runtime.runIfWaitingForDebugger", Json::object(), "S1");
    auto browser_call = client.call("Browser.getVersion");
    REQUIRE(client.run_until([&] { return !seen.empty() && seen.back().method == "Test.done"; }));
    REQUIRE(resume->done());
    REQUIRE(browser_call->done());
    CHECK(resume->result->ok());
    CHECK(browser_call->result->ok());

    REQUIRE(seen.size() == 4);
    // The ghost event never reached the handler, but was counted before the attach arrived.
    CHECK(seen[0].method == "Target.attachedToTarget");
    CHECK(seen[0].session.session_id.empty());
    CHECK(seen[0].session.type == "browser");
    CHECK(seen[0].unknown_session_events == 1);
    CHECK(seen[0].s1_known);

    CHECK(seen[1].method == "Runtime.executionContextCreated");
    CHECK(seen[1].session.session_id == "S1");
    CHECK(seen[1].session.target_id == "T1");
    CHECK(seen[1].session.type == "worker");
    CHECK(seen[1].session.url == "http://127.0.0.1/miner.js");
    CHECK(seen[1].session.parent_session_id.empty());
    CHECK(seen[1].session.waiting_for_debugger);

    CHECK(seen[2].method == "Target.detachedFromTarget");
    CHECK(seen[2].session.session_id.empty());
    CHECK(seen[3].method == "Test.done");
    CHECK_FALSE(seen[3].s1_known);

    // The S1 event after the detach was counted, not dispatched.
    CHECK(connection.counters().unknown_session_events == 2);
    CHECK(connection.counters().events_dispatched == 4);
    CHECK(connection.target("S1") == nullptr);
    CHECK(connection.session_count() == 1);

    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].at("method") == "Runtime.runIfWaitingForDebugger");
    CHECK(requests[0].value("sessionId", std::string()) == "S1");
    CHECK(requests[1].at("method") == "Browser.getVersion");
    CHECK_FALSE(requests[1].contains("sessionId"));
  }
  CHECK(server.wait_finished() == "");
}

TEST_CASE("garbage from the server is counted and the connection keeps working", "[cdp]") {
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    Json request = co_await peer.read_request();
    std::string not_json = R"({"id": 1, oops)";
    co_await peer.send(std::move(not_json));
    std::string not_object = "[1,2,3]";
    co_await peer.send(std::move(not_object));
    std::string neither = R"({"neither":"a reply nor an event"})";  // no id, no method
    co_await peer.send(std::move(neither));
    std::string reply = reply_to(request, Json::parse(R"({"ok":true})"));
    co_await peer.send(std::move(reply));
  });
  {
    Client client(server.url());
    auto call = client.call("Test.first");
    REQUIRE(client.run_until([&] { return call->done(); }));
    REQUIRE(call->result->ok());
    CHECK(call->result->value().at("ok") == true);
    CHECK(client.connection().counters().bad_messages == 3);
    CHECK(client.connection().counters().late_replies == 0);

    auto after = client.call("Test.after");
    REQUIRE(client.run_until([&] { return after->done(); }));
    CHECK(after->result->ok());
    CHECK(client.connection().is_open());
  }
  CHECK(server.wait_finished() == "");
}

TEST_CASE("connect refuses a non-loopback DevTools address before touching the network", "[cdp]") {
  // These addresses are only ever handed to connect(), which must refuse them synchronously.
  // A name that merely starts like a loopback address must not pass for one either.
  const auto [url, host] = GENERATE(table<std::string, std::string>({
      {"ws://10.0.0.1:9/devtools/browser/x", "10.0.0.1"},
      {"ws://example.com:9/devtools/browser/x", "example.com"},
      {"ws://127.0.0.1.example.com:9/devtools/browser/x", "127.0.0.1.example.com"},
  }));
  INFO(url);
  asio::io_context io;
  auto outcome = std::make_shared<ConnectOutcome>();
  asio::co_spawn(io, connect_into(url, cdp::kMaxMessageBytes, outcome), rethrow);
  io.poll();  // runs only what is ready: a TCP connect could not have completed here
  REQUIRE(outcome->has_value());
  REQUIRE_FALSE((*outcome)->ok());
  CHECK((*outcome)->error().context == "connect");
  CHECK_THAT((*outcome)->error().message, Contains(host));
}

TEST_CASE("calls on a session whose target detaches fail at once, and other sessions' calls still get replies",
          "[cdp]") {
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    Json attach = Json::parse(R"({"sessionId":"S1","waitingForDebugger":true,
        "targetInfo":{"targetId":"T1","type":"service_worker","url":"http://127.0.0.1/sw.js"}})");
    std::string attached = event("Target.attachedToTarget", std::move(attach));
    co_await peer.send(std::move(attached));
    // Two calls arrive: one on S1, which is never answered (a service worker that waits), and one on
    // the browser session, answered only after S1 has detached.
    Json first = co_await peer.read_request();
    Json second = co_await peer.read_request();
    Json& on_browser = first.contains("sessionId") ? second : first;
    Json detach = Json::parse(R"({"sessionId":"S1","targetId":"T1"})");
    std::string detached = event("Target.detachedFromTarget", std::move(detach));
    co_await peer.send(std::move(detached));
    std::string reply = reply_to(on_browser, Json::object());
    co_await peer.send(std::move(reply));
  });
  {
    Client client(server.url());
    REQUIRE(client.run_until([&] { return client.connection().target("S1") != nullptr; }));
    auto stuck = client.call("Network.enable", Json::object(), "S1");  // kGenerousTimeout: far away
    auto browser_call = client.call("Browser.getVersion");
    REQUIRE(client.run_until([&] { return stuck->done() && browser_call->done(); }));
    REQUIRE_FALSE(stuck->result->ok());
    CHECK(stuck->result->error().code == util::ErrorCode::target_gone);
    CHECK(stuck->result->error().message == "the target detached");
    CHECK(stuck->elapsed() < 2s);
    CHECK(browser_call->result->ok());
    CHECK(client.connection().is_open());
  }
  CHECK(server.wait_finished() == "");
}

TEST_CASE("a lone surrogate from a page does not cost the message: events and string replies arrive with U+FFFD",
          "[cdp]") {
  FakeCdpServer server([](FakePeer& peer) -> asio::awaitable<void> {
    Json request = co_await peer.read_request();
    // As Chrome writes a page's UTF-16: the unpaired \ud800 stays an escape.
    std::string dialog = R"({"method":"Page.javascriptDialogOpening","params":{"message":"hi\ud800!"}})";
    co_await peer.send(std::move(dialog));
    std::string source =
        R"({"id":)" + request.at("id").dump() + R"(,"result":{"scriptSource":"var s = '\udc00'; // CoinHive"}})";
    co_await peer.send(std::move(source));
  });
  {
    Client client(server.url());
    std::vector<std::string> messages;
    client.connection().on_event([&](const cdp::TargetInfo&, std::string_view method, const Json& params) {
      if (method == "Page.javascriptDialogOpening") messages.push_back(params.value("message", std::string()));
    });
    auto call = client.call("Debugger.getScriptSource");
    REQUIRE(client.run_until([&] { return call->done() && !messages.empty(); }));
    REQUIRE(call->result->ok());
    CHECK(call->result->value().at("scriptSource") == "var s = '\xEF\xBF\xBD'; // CoinHive");
    CHECK(messages == std::vector<std::string>{"hi\xEF\xBF\xBD!"});
    CHECK(client.connection().counters().lone_surrogates_replaced == 1);  // the event; the reply never needed it
    CHECK(client.connection().counters().bad_messages == 0);
  }
  CHECK(server.wait_finished() == "");
}
