// tests/support/io_helpers.hpp — driving an io_context from a unit test: run it until a condition
// holds, always with a time bound, so a bug fails the case instead of hanging it.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace testsupport {

// Runs `io` in slices until pred() holds (true) or `bound` passes (false).
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred pred, std::chrono::milliseconds bound = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    io.run_for(std::chrono::milliseconds(2));
    if (io.stopped()) io.restart();
  }
  return true;
}

// Runs one handler at a time until pred() holds: for stopping between two steps of a protocol.
template <class Pred>
bool step_until(boost::asio::io_context& io, Pred pred, std::chrono::milliseconds bound = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    if (io.poll_one() == 0) io.run_one_for(std::chrono::milliseconds(2));
    if (io.stopped()) io.restart();
  }
  return true;
}

// Spawns `task` on `io`; its result lands in the returned optional once it completes (rethrowing
// on the test thread any exception it threw).
template <class T>
std::shared_ptr<std::optional<T>> spawn_for_result(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  auto result = std::make_shared<std::optional<T>>();
  auto fill = [](boost::asio::awaitable<T> awaited,
                 std::shared_ptr<std::optional<T>> out) -> boost::asio::awaitable<void> {
    out->emplace(co_await std::move(awaited));
  };
  boost::asio::co_spawn(io, fill(std::move(task), result), [](std::exception_ptr failure) {
    if (failure) std::rethrow_exception(failure);
  });
  return result;
}

}  // namespace testsupport
