// tests/fuzz/fuzz_cdp_router.cpp — cdp::Connection's message routing (handle_message: the skip
// filter, the fast reply path, the general and pruned parsers, lone-surrogate repair, replies to
// pending calls, events, the session table) with the TargetManager behind it (attach, wiring,
// detach), over the in-process scripted transport: no threads, no sockets, no clock. Each input line
// is one message from "Chrome", read after three calls and the auto-attach are in flight; the peer
// answers every command the Connection sends with an empty result, as Chrome would, and the stream
// ends once everything is idle. A first line starting with '#' sets options instead: 'n' no pruned
// keys, 'k' no skip filter, 'q' a peer that never answers. Asserts beyond "no crash": no exception
// escapes the reader loop (the connection never dies of a message), every message is counted as
// received, every call completes once the stream ends, no wiring is left in flight, the session
// table never holds more targets than there were attach events, and the browser's session survives.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "cdp/connection.hpp"
#include "cdp/target_manager.hpp"
#include "tests/fuzz/targets.hpp"
#include "tests/support/scripted_transport.hpp"

namespace cjcrawl::fuzz {
namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;

// Instruments every target, as a visit does with the site's.
struct EveryTarget : cdp::TargetListener {
  std::size_t attached = 0;
  std::size_t wired = 0;
  bool on_attached(const cdp::TargetInfo&) override {
    ++attached;
    return true;
  }
  void on_wired(const cdp::TargetInfo&, bool) override { ++wired; }
};

void rethrow(const std::exception_ptr& failure) {
  if (failure) std::rethrow_exception(failure);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

asio::awaitable<void> call(cdp::Connection& connection, std::string method, std::size_t& completed) {
  (void)co_await connection.call(method, Json::object());
  ++completed;
}

asio::awaitable<void> start(cdp::TargetManager& targets, std::size_t& completed) {
  (void)co_await targets.start();
  ++completed;
}

}  // namespace

int cdp_router(const std::uint8_t* data, std::size_t size) {
  auto lines = split_lines(as_text(data, size));
  std::string_view options;
  if (!lines.empty() && lines.front().starts_with("#")) {
    options = lines.front();
    lines.erase(lines.begin());
  }
  const bool answer = options.find('q') == std::string_view::npos;

  asio::io_context io;
  auto peer = std::make_shared<testsupport::ScriptedPeer>();
  std::size_t answers = 0;
  if (answer)
    peer->on_command([&](const Json& command) {
      ++answers;
      peer->reply(command);
    });
  cdp::Connection connection(testsupport::make_scripted_transport(peer, io.get_executor()), io.get_executor());
  auto owner = std::make_shared<int>(0);
  cdp::TargetManager targets(connection, owner);
  EveryTarget listener;
  targets.set_listener(&listener);
  // As cdp::Browser sets the connection up (skip filter, pruned keys, Target.* to the manager).
  if (options.find('k') == std::string_view::npos)
    connection.skip_events([](std::string_view method, std::string_view) {
      return method == "Network.dataReceived" || method.starts_with("Console.");
    });
  if (options.find('n') == std::string_view::npos) connection.prune_keys({"headers", "timing", "securityDetails"});
  std::size_t events = 0;
  connection.on_event([&](const cdp::TargetInfo& target, std::string_view method, const Json& params) {
    ++events;
    if (method.starts_with("Target.")) targets.handle(target, method, params);
  });

  // Calls in flight first (ids 1-4), so that replies in the input find them; then the messages.
  std::size_t completed = 0;
  for (const char* method : {"Runtime.evaluate", "Debugger.getScriptSource", "Page.navigate"})
    asio::co_spawn(io, call(connection, method, completed), rethrow);
  asio::co_spawn(io, start(targets, completed), rethrow);
  asio::co_spawn(io, connection.run(), rethrow);
  std::size_t attach_events = 0;
  for (const auto line : lines) {
    if (line.find("attachedToTarget") != std::string_view::npos) ++attach_events;
    peer->push(std::string(line));
  }
  // Until idle (every message read, every answer given; only deadlines left), then the stream ends.
  while (io.poll() > 0) {
  }
  expect(connection.is_open(), "no message ends the connection");
  expect(connection.session_count() <= 1 + attach_events, "sessions come only from attach events");
  expect(connection.target("") != nullptr, "the browser's session is never detached");
  peer->end();
  io.run();

  expect(!connection.is_open(), "the connection ends with its stream");
  expect(connection.counters().messages_received == lines.size() + answers, "every message is counted as received");
  expect(completed == 4, "every call completes when the stream ends");
  expect(targets.wirings_in_flight() == 0, "no wiring outlives the stream");
  expect(connection.counters().events_dispatched == events, "every dispatched event reaches the handler");
  return 0;
}

}  // namespace cjcrawl::fuzz
